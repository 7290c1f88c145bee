// The surrogate-train command as a user runs it: help and errors, a fit from a CSV
// file with a configuration file and a metrics log, and a run killed with SIGKILL
// that resumes to exactly the weights of an uninterrupted one.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "command.hpp"
#include "cs/format_io.hpp"
#include "cs/runtime/ensemble.hpp"
#include "synthetic.hpp"

using namespace cs;

namespace {

std::string scratch(const std::string& name) {
    return test::scratch_path("trainer-command", name);
}

pid_t start(const std::vector<std::string>& arguments, const std::string& log) {
    return test::start_command(arguments, log);
}

int run(const std::vector<std::string>& arguments, const std::string& log) {
    return test::run_command(arguments, log);
}

using test::read_text;

std::vector<std::string> fit_arguments(const std::string& data, const std::string& output) {
    return {"fit",          data, "--output", output, "--epochs", "4",
            "--batch-size", "64", "--seed",   "5",    "--device", "cpu"};
}

}  // namespace

TEST_CASE("trainer: surrogate-train explains itself and rejects bad input in one line",
          "[trainer][command]") {
    const std::string log = scratch("help.log");
    CHECK(run({"help"}, log) == 0);
    CHECK(read_text(log).find("--checkpoint-every") != std::string::npos);

    CHECK(run({"fit", "--data", "x.csv", "--output", "x.surrogate", "--epochs", "many"}, log) == 2);
    CHECK(read_text(log) ==
          "surrogate-train: --epochs: expected a non-negative integer, "
          "got \"many\"\n");
    CHECK(run({"fit", "--data", scratch("absent.csv"), "--output", scratch("x.surrogate")}, log) ==
          1);
    CHECK(read_text(log).find("absent.csv") != std::string::npos);
    CHECK(run({"train"}, log) == 2);
}

TEST_CASE("trainer: fit trains from CSV, records its configuration and logs metrics",
          "[trainer][command]") {
    const std::string data = scratch("jets.csv");
    test::write_synthetic_file(data, 1500, 11);
    const std::string config = scratch("run.conf");
    std::ofstream(config) << "# a variational run\nmethod = variational\ndraws = 2\n"
                             "schedule = cosine\nbatch-size = 128\n";
    const std::string output = scratch("fit.surrogate");
    const std::string metrics = scratch("fit.jsonl");
    const std::string log = scratch("fit.log");

    REQUIRE(run({"fit", "--config", config, "--data", data, "--output", output, "--json",
                 scratch("fit.json"), "--metrics", metrics, "--epochs", "2", "--device", "cpu"},
                log) == 0);
    CHECK(read_text(log).find("epoch 2/2") != std::string::npos);  // plain lines, no terminal

    const format::SurrogateFile file = format::read_file(output);
    CHECK(file.members.size() == 3);
    CHECK(file.provenance.method == "variational");
    bool recorded = false;
    for (const format::Entry& entry : file.provenance.hyperparameters) {
        recorded = recorded || (entry.key == "config" &&
                                entry.value.find("batch-size = 128") != std::string::npos);
    }
    CHECK(recorded);
    CHECK(runtime::Ensemble(format::read_file(scratch("fit.json"))).n_members() == 3);

    std::ifstream lines(metrics);
    int count = 0;
    for (std::string line; std::getline(lines, line); ++count) {
        CHECK(line.find("\"validation_loss\": ") != std::string::npos);
    }
    CHECK(count == 2);
}

TEST_CASE("trainer: fit reads pandas HDF5 with conditions chosen by name", "[trainer][command]") {
    const std::string data = scratch("jets.h5");
    test::write_synthetic_file(data, 800, 13);
    const std::string output = scratch("hdf5.surrogate");
    const std::string log = scratch("hdf5.log");
    REQUIRE(run({"fit", "--data", data, "--output", output, "--epochs", "1", "--conditions",
                 "label_top,jet_eta", "--device", "cpu"},
                log) == 0);
    const format::SurrogateFile file = format::read_file(output);
    REQUIRE(file.conditions.size() == 2);
    CHECK(file.conditions[1].name == "jet_eta");
    CHECK(file.provenance.training_data.find("800 rows") != std::string::npos);

    // a column the file does not have is named in the one-line error
    CHECK(run({"fit", "--data", data, "--output", output, "--conditions", "label_top,jet_mass"},
              log) == 1);
    const std::string message = read_text(log);
    CHECK(message.find("jet_mass") != std::string::npos);
    CHECK(std::count(message.begin(), message.end(), '\n') == 1);
}

TEST_CASE("trainer: a run killed with SIGKILL resumes to the weights of an uninterrupted run",
          "[trainer][command][resume]") {
    const std::string data = scratch("resume.csv");
    test::write_synthetic_file(data, 2000, 12);
    const std::string reference = scratch("reference.surrogate");
    auto arguments = fit_arguments("--data", reference);
    arguments[1] = "--data";
    arguments.insert(arguments.begin() + 2, data);
    REQUIRE(run(arguments, scratch("reference.log")) == 0);

    // the same run with checkpoints every 7 steps, killed once one exists
    const std::string checkpoint = scratch("resume.checkpoint");
    const std::string output = scratch("resumed.surrogate");
    std::filesystem::remove(checkpoint);
    std::filesystem::remove(output);
    std::vector<std::string> interrupted = fit_arguments("--data", output);
    interrupted[1] = "--data";
    interrupted.insert(interrupted.begin() + 2, data);
    interrupted.insert(interrupted.end(),
                       {"--checkpoint", checkpoint, "--checkpoint-every", "7", "--resume"});
    const pid_t pid = start(interrupted, scratch("killed.log"));
    while (!std::filesystem::exists(checkpoint)) {
        int status = 0;
        REQUIRE(waitpid(pid, &status, WNOHANG) == 0);  // still running
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, WNOHANG) == 0);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(!std::filesystem::exists(output));

    const std::string log = scratch("resumed.log");
    REQUIRE(run(interrupted, log) == 0);
    CHECK(read_text(log).find("resumed at epoch") != std::string::npos);
    const format::SurrogateFile resumed = format::read_file(output);
    const format::SurrogateFile uninterrupted = format::read_file(reference);
    CHECK(resumed.members[0].weights == uninterrupted.members[0].weights);
}
