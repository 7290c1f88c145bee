// Validation of a surrogate file, field by field, before any of it is used.
#include <cmath>
#include <set>

#include "cs/format_io.hpp"
#include "cs/random.hpp"

namespace cs::format {

uint64_t block_input_width(const Architecture& architecture, uint64_t n_conditions,
                           uint32_t block) {
    const uint64_t embedding = 2 * architecture.time_embedding.frequencies.size();
    const uint64_t state = block == 0 ? 1 : architecture.width;
    return embedding + state + n_conditions;
}

uint64_t parameter_count(const Architecture& architecture, uint64_t n_conditions) {
    const uint64_t width = architecture.width;
    uint64_t count = 0;
    for (uint32_t block = 0; block < architecture.n_blocks; ++block) {
        const uint64_t output = block + 1 == architecture.n_blocks ? 1 : width;
        for (uint32_t layer = 0; layer < architecture.layers_per_block; ++layer) {
            const uint64_t in =
                layer == 0 ? block_input_width(architecture, n_conditions, block) : width;
            const uint64_t out = layer + 1 == architecture.layers_per_block ? output : width;
            count += in * out + out;
        }
    }
    return count;
}

namespace {

std::string indexed(const std::string& name, size_t index) {
    return name + "[" + std::to_string(index) + "]";
}

void require(bool condition, const std::string& field, const std::string& message) {
    if (!condition) {
        throw FormatError(field, message);
    }
}

void require_finite(double value, const std::string& field) {
    require(std::isfinite(value), field,
            "expected a finite number, found " + std::to_string(value));
}

void require_one_of(const std::string& value, const std::set<std::string>& allowed,
                    const std::string& field) {
    if (allowed.count(value) == 0) {
        std::string list;
        for (const auto& name : allowed) {
            list += (list.empty() ? "\"" : ", \"") + name + "\"";
        }
        throw FormatError(field,
                          "\"" + value + "\" is not supported (expected one of " + list + ")");
    }
}

void require_levels(const std::vector<double>& levels, const std::vector<double>& values,
                    const std::string& field) {
    require(
        levels.size() == values.size(), field,
        std::to_string(levels.size()) + " levels but " + std::to_string(values.size()) + " values");
    for (size_t i = 0; i < levels.size(); ++i) {
        require(levels[i] >= 0.0 && levels[i] <= 1.0, field + " levels" + indexed("", i),
                "expected a level in [0, 1], found " + std::to_string(levels[i]));
        require_finite(values[i], field + indexed("", i));
        if (i > 0) {
            require(levels[i] > levels[i - 1], field, "levels must increase");
            require(values[i] >= values[i - 1], field, "quantiles must not decrease");
        }
    }
}

void validate_architecture(const Architecture& architecture) {
    const std::string path = "architecture";
    require_one_of(architecture.kind, {"concat-mlp-blocks"}, path + ".kind");
    require(architecture.n_blocks >= 1 && architecture.n_blocks <= 64, path + ".n_blocks",
            "expected 1 to 64 blocks, found " + std::to_string(architecture.n_blocks));
    require(architecture.width >= 1 && architecture.width <= 4096, path + ".width",
            "expected a width of 1 to 4096, found " + std::to_string(architecture.width));
    require(architecture.layers_per_block >= 1 && architecture.layers_per_block <= 64,
            path + ".layers_per_block",
            "expected 1 to 64 layers, found " + std::to_string(architecture.layers_per_block));
    require_one_of(architecture.activation, {"elu"}, path + ".activation");

    const auto& embedding = architecture.time_embedding;
    require_one_of(embedding.kind, {"fourier"}, path + ".time_embedding.kind");
    require_one_of(embedding.layout, {"cos-then-sin"}, path + ".time_embedding.layout");
    require(
        embedding.frequencies.size() <= 64, path + ".time_embedding.frequencies",
        "expected at most 64 frequencies, found " + std::to_string(embedding.frequencies.size()));
    for (size_t i = 0; i < embedding.frequencies.size(); ++i) {
        require_finite(embedding.frequencies[i], indexed(path + ".time_embedding.frequencies", i));
    }
    require_one_of(architecture.time_convention, {"t0-data-t1-noise"}, path + ".time_convention");
    require(std::isfinite(architecture.sigma_min) && architecture.sigma_min >= 0.0 &&
                architecture.sigma_min < 1.0,
            path + ".sigma_min", "expected a number in [0, 1)");
    require_one_of(architecture.weight_layout, {"block-layer-weight-rowmajor-bias"},
                   path + ".weight_layout");
}

void validate_conditions(const SurrogateFile& file) {
    require(!file.conditions.empty() && file.conditions.size() <= 1024, "conditions",
            "expected 1 to 1024 conditions, found " + std::to_string(file.conditions.size()));
    std::set<std::string> names;
    for (size_t i = 0; i < file.conditions.size(); ++i) {
        const auto& condition = file.conditions[i];
        const std::string path = indexed("conditions", i);
        require(!condition.name.empty(), path + ".name", "expected a non-empty name");
        require(names.insert(condition.name).second, path + ".name",
                "duplicate condition \"" + condition.name + "\"");
        require_finite(condition.offset, path + ".offset");
        require(std::isfinite(condition.scale) && condition.scale > 0.0, path + ".scale",
                "expected a positive finite scale, found " + std::to_string(condition.scale));
        require_finite(condition.support.min, path + ".support.min");
        require_finite(condition.support.max, path + ".support.max");
        require(condition.support.min <= condition.support.max, path + ".support",
                "min is larger than max");
        require_levels(condition.support.quantile_levels, condition.support.quantiles,
                       path + ".support.quantiles");
    }
}

void validate_support(const SurrogateFile& file) {
    const auto& support = file.support;
    const size_t n = file.conditions.size();
    require(
        support.mean.size() == n, "support.mean",
        "expected " + std::to_string(n) + " values, found " + std::to_string(support.mean.size()));
    require(support.covariance.size() == n * n, "support.covariance",
            "expected " + std::to_string(n * n) + " values (" + std::to_string(n) + " x " +
                std::to_string(n) + "), found " + std::to_string(support.covariance.size()));
    for (size_t i = 0; i < n; ++i) {
        require_finite(support.mean[i], indexed("support.mean", i));
        for (size_t j = 0; j < n; ++j) {
            const double value = support.covariance[i * n + j];
            require_finite(value, indexed("support.covariance", i * n + j));
            const double mirror = support.covariance[j * n + i];
            require(std::fabs(value - mirror) <= 1e-9 * (1.0 + std::fabs(value)),
                    "support.covariance", "expected a symmetric matrix");
        }
        require(support.covariance[i * n + i] > 0.0, indexed("support.covariance", i * n + i),
                "expected a positive variance on the diagonal");
    }
    require_levels(support.distance_levels, support.distance_quantiles, "support.distance");
    require(std::isfinite(support.distance_threshold) && support.distance_threshold > 0.0,
            "support.distance_threshold", "expected a positive finite distance");
}

void validate_members(const SurrogateFile& file) {
    require(!file.members.empty() && file.members.size() <= 100000, "members",
            "expected 1 to 100000 members, found " + std::to_string(file.members.size()));
    const uint64_t expected = parameter_count(file.architecture, file.conditions.size());
    for (size_t m = 0; m < file.members.size(); ++m) {
        const auto& member = file.members[m];
        const std::string path = indexed("members", m);
        require_one_of(member.origin,
                       {"point-estimate", "variational-mean", "variational-draw", "chain-step",
                        "demonstration"},
                       path + ".origin");
        require(member.weights.size() == expected, path + ".weights",
                "expected " + std::to_string(expected) + " weights for this architecture, found " +
                    std::to_string(member.weights.size()));
        for (size_t w = 0; w < member.weights.size(); ++w) {
            if (!std::isfinite(member.weights[w])) {
                throw FormatError(indexed(path + ".weights", w), "expected a finite weight");
            }
        }
    }
}

void validate_test_vectors(const SurrogateFile& file) {
    require(!file.test_vectors.empty(), "test_vectors", "expected at least one test vector");
    require(std::isfinite(file.test_tolerance) && file.test_tolerance > 0.0 &&
                file.test_tolerance < 1.0,
            "test_tolerance", "expected a tolerance in (0, 1)");
    for (size_t i = 0; i < file.test_vectors.size(); ++i) {
        const auto& vector = file.test_vectors[i];
        const std::string path = indexed("test_vectors", i);
        require(vector.member < file.members.size(), path + ".member",
                "member " + std::to_string(vector.member) + " does not exist (the file has " +
                    std::to_string(file.members.size()) + ")");
        require(vector.conditions.size() == file.conditions.size(), path + ".conditions",
                "expected " + std::to_string(file.conditions.size()) + " values, found " +
                    std::to_string(vector.conditions.size()));
        require(vector.time >= 0.0 && vector.time <= 1.0, path + ".time",
                "expected a time in [0, 1]");
        require_finite(vector.state, path + ".state");
        require_finite(vector.velocity, path + ".velocity");
        require_finite(vector.velocity_derivative, path + ".velocity_derivative");
        for (size_t c = 0; c < vector.conditions.size(); ++c) {
            require_finite(vector.conditions[c], indexed(path + ".conditions", c));
        }
    }
}

}  // namespace

void validate(const SurrogateFile& file) {
    if (file.format_major != kMajorVersion || file.format_minor > kMinorVersion) {
        throw FormatError("format_version", "this file has format version " +
                                                std::to_string(file.format_major) + "." +
                                                std::to_string(file.format_minor) +
                                                "; this build reads " + readable_versions());
    }
    require(!file.producer.empty(), "producer", "expected the name of the program that wrote it");
    validate_architecture(file.architecture);
    require_one_of(file.score_transform.kind, {"scaled-logit"}, "score_transform.kind");
    require(std::isfinite(file.score_transform.scale) && file.score_transform.scale > 0.0,
            "score_transform.scale", "expected a positive finite scale");
    validate_conditions(file);
    validate_support(file);

    require_one_of(file.solver.method, {"dopri5", "rk4"}, "solver.method");
    require_one_of(file.solver.step_control, {"batch", "per-sample"}, "solver.step_control");
    require(std::isfinite(file.solver.atol) && file.solver.atol > 0.0, "solver.atol",
            "expected a positive tolerance");
    require(std::isfinite(file.solver.rtol) && file.solver.rtol >= 0.0, "solver.rtol",
            "expected a non-negative tolerance");
    require(file.solver.max_steps >= 1, "solver.max_steps", "expected at least one step");
    require(file.solver.rk4_steps >= 1, "solver.rk4_steps", "expected at least one step");

    require_one_of(file.random.generator, {kGeneratorName}, "random.generator");
    require_one_of(file.random.normal_transform, {kNormalTransformName}, "random.normal_transform");

    validate_members(file);
    validate_test_vectors(file);
}

}  // namespace cs::format
