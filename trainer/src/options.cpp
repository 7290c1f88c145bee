// Names of methods and schedules, the option list recorded in provenance, and the
// thread settings.
#include <dlfcn.h>

#include <sstream>

#include <ATen/Parallel.h>

#include "cs/trainer/options.hpp"
#include "cs/trainer/trainer.hpp"

namespace cs::trainer {

void set_threads(int threads) {
    at::set_num_threads(threads);
    using SetThreads = void (*)(int);
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
        set(threads);
    }
}

Method parse_method(const std::string& name) {
    if (name == "cfm") {
        return Method::cfm;
    }
    if (name == "variational") {
        return Method::variational;
    }
    throw TrainingError("method: unknown \"" + name + "\" (expected cfm or variational)");
}

Schedule parse_schedule(const std::string& name) {
    if (name == "constant") {
        return Schedule::constant;
    }
    if (name == "exponential") {
        return Schedule::exponential;
    }
    if (name == "cosine") {
        return Schedule::cosine;
    }
    throw TrainingError("schedule: unknown \"" + name +
                        "\" (expected constant, exponential or cosine)");
}

std::string method_name(Method method) {
    return method == Method::cfm ? "cfm" : "variational";
}

std::string schedule_name(Schedule schedule) {
    switch (schedule) {
        case Schedule::constant:
            return "constant";
        case Schedule::exponential:
            return "exponential";
        case Schedule::cosine:
            return "cosine";
    }
    return "constant";
}

std::vector<std::pair<std::string, std::string>> describe(const TrainingOptions& options) {
    auto text = [](double value) {
        std::ostringstream stream;
        stream.precision(17);
        stream << value;
        return stream.str();
    };
    return {
        {"method", method_name(options.method)},
        {"epochs", std::to_string(options.epochs)},
        {"batch_size", std::to_string(options.batch_size)},
        {"learning_rate", text(options.learning_rate)},
        {"weight_decay", text(options.weight_decay)},
        {"schedule", schedule_name(options.schedule)},
        {"decay", text(options.decay)},
        {"minimum_fraction", text(options.minimum_fraction)},
        {"seed", std::to_string(options.seed)},
        {"kl_weight", text(options.kl_weight)},
        {"initial_rho", text(options.initial_rho)},
        {"device", options.device},
        {"threads", std::to_string(options.threads)},
        {"optimizer", "adamw"},
    };
}

format::Architecture reference_architecture() {
    return format::Architecture{};
}

}  // namespace cs::trainer
