// Importing state dicts of the reference Python code. The fixtures under
// tests/trainer/reference were written by Debian's python3-torch with
// make_state_dicts.py there, which also recorded PyTorch's own velocity field and
// dv/dx at a dozen points: the imported weights must give the same numbers in the
// runtime, and the command must turn them into a file that verifies.
#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "command.hpp"
#include "cs/format_io.hpp"
#include "cs/runtime/velocity_field.hpp"
#include "cs/trainer/reference_import.hpp"
#include "synthetic.hpp"

using namespace cs;

namespace {

std::string fixture(const std::string& name) {
    return std::string(CS_SOURCE_DIR) + "/tests/trainer/reference/" + name;
}

std::string scratch(const std::string& name) {
    return test::scratch_path("trainer-import", name);
}

rapidjson::Document expected_values() {
    std::ifstream stream(fixture("reference_expected.json"));
    std::stringstream text;
    text << stream.rdbuf();
    rapidjson::Document document;
    document.Parse(text.str().c_str());
    REQUIRE(document.IsObject());
    return document;
}

std::vector<double> numbers(const rapidjson::Value& array) {
    std::vector<double> values;
    for (const auto& value : array.GetArray()) {
        values.push_back(value.GetDouble());
    }
    return values;
}

// max |runtime - PyTorch| / max |PyTorch| over the recorded points, for v and for
// dv/dx.
std::pair<double, double> worst_differences(const trainer::ReferenceModel& model,
                                            const std::vector<float>& weights,
                                            const rapidjson::Value& recorded) {
    const std::vector<double> times = numbers(recorded["times"]);
    const std::vector<double> states = numbers(recorded["states"]);
    const std::vector<double> conditions = numbers(recorded["conditions"]);
    const std::vector<double> velocity = numbers(recorded["velocity"]);
    const std::vector<double> derivative = numbers(recorded["derivative"]);
    const auto n = static_cast<Eigen::Index>(times.size());
    const auto width = static_cast<Eigen::Index>(model.n_conditions);

    const runtime::VelocityField field(model.architecture, width, weights);
    Eigen::MatrixXf c(width, n);
    for (Eigen::Index r = 0; r < n; ++r) {
        for (Eigen::Index k = 0; k < width; ++k) {
            c(k, r) = static_cast<float>(conditions[static_cast<size_t>(r * width + k)]);
        }
    }
    runtime::VelocityField::Workspace workspace;
    Eigen::ArrayXd v;
    Eigen::ArrayXd dv_dx;
    field.evaluate(Eigen::Map<const Eigen::ArrayXd>(times.data(), n),
                   Eigen::Map<const Eigen::ArrayXd>(states.data(), n), field.condition(c), nullptr,
                   workspace, v, &dv_dx);
    double v_difference = 0.0;
    double v_size = 0.0;
    double d_difference = 0.0;
    double d_size = 0.0;
    for (Eigen::Index r = 0; r < n; ++r) {
        const auto i = static_cast<size_t>(r);
        v_difference = std::max(v_difference, std::abs(v(r) - velocity[i]));
        v_size = std::max(v_size, std::abs(velocity[i]));
        d_difference = std::max(d_difference, std::abs(dv_dx(r) - derivative[i]));
        d_size = std::max(d_size, std::abs(derivative[i]));
    }
    return {v_difference / v_size, d_difference / d_size};
}

std::string error_of(const std::string& name) {
    try {
        trainer::read_reference_state_dict(fixture(name));
    } catch (const trainer::TrainingError& error) {
        return error.what();
    }
    return "no error";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("trainer: a plain reference state dict imports to the velocity field PyTorch computes",
          "[trainer][import]") {
    const trainer::ReferenceModel model =
        trainer::read_reference_state_dict(fixture("reference_plain.pt"));
    CHECK(model.prefix == "net.");
    CHECK(model.n_conditions == 6);
    CHECK(model.architecture.n_blocks == 3);
    CHECK(model.architecture.width == 64);
    CHECK(model.architecture.layers_per_block == 3);
    CHECK(model.architecture.time_embedding.frequencies[0] == Approx(1.0).epsilon(1e-7));
    CHECK(model.architecture.time_embedding.frequencies[2] == Approx(3.0).epsilon(1e-7));
    CHECK(model.posterior.method == trainer::Method::cfm);
    CHECK(model.posterior.mean.size() == 31617);
    CHECK(model.posterior.rho.empty());
    CHECK(model.unused_keys.empty());
    CHECK(model.dtype == "float");

    // float32 weights evaluated in float32 by the runtime against PyTorch's float64
    const auto [v, d] = worst_differences(model, model.posterior.mean, expected_values()["plain"]);
    CHECK(v < 1e-5);
    CHECK(d < 1e-5);
}

TEST_CASE("trainer: a Flipout state dict imports its means and rho; its buffers are left out",
          "[trainer][import]") {
    const trainer::ReferenceModel model =
        trainer::read_reference_state_dict(fixture("reference_flipout.pt"));
    CHECK(model.posterior.method == trainer::Method::variational);
    REQUIRE(model.posterior.rho.size() == model.posterior.mean.size());
    CHECK(model.unused_keys.size() == 9 * 6);  // eps and prior buffers of the 9 layers
    const rapidjson::Document expected = expected_values();
    const auto [v, d] = worst_differences(model, model.posterior.mean, expected["flipout_mean"]);
    CHECK(v < 1e-5);
    CHECK(d < 1e-5);

    double sigma = 0.0;
    for (float rho : model.posterior.rho) {
        sigma += std::log1p(std::exp(static_cast<double>(rho)));
    }
    sigma /= static_cast<double>(model.posterior.rho.size());
    CHECK(sigma == Approx(expected["flipout_mean_sigma"].GetDouble()).epsilon(1e-6));

    // the members the export draws are mean + softplus(rho) eps: their spread is sigma
    const std::vector<float> draw = trainer::draw_weights(model.posterior, 3, 0);
    double squares = 0.0;
    for (size_t i = 0; i < draw.size(); ++i) {
        const double rho = model.posterior.rho[i];
        const double z = (draw[i] - model.posterior.mean[i]) / std::log1p(std::exp(rho));
        squares += z * z;
    }
    CHECK(squares / static_cast<double>(draw.size()) == Approx(1.0).margin(0.03));
}

TEST_CASE("trainer: float64 weights import; an OrderedDict is refused with the remedy",
          "[trainer][import]") {
    const trainer::ReferenceModel twice =
        trainer::read_reference_state_dict(fixture("reference_double.pt"));
    CHECK(twice.dtype == "double");
    CHECK(twice.architecture.width == 8);
    CHECK(twice.posterior.mean.size() ==
          format::parameter_count(twice.architecture, twice.n_conditions));

    // state_dict() returns an OrderedDict, which LibTorch's unpickler cannot build
    const std::string message = error_of("reference_ordered.pt");
    CHECK(contains(message, "holds an OrderedDict"));
    CHECK(contains(message, "torch.save(dict(model.state_dict()), path)"));
}

TEST_CASE("trainer: a broken state dict is refused with the file and the key named",
          "[trainer][import]") {
    CHECK(contains(error_of("reference_bad_shape.pt"), "'net.mlp1.2.weight' has shape [8, 7]"));
    CHECK(contains(error_of("reference_bad_shape.pt"), "need [8, 8]"));
    CHECK(contains(error_of("reference_missing_bias.pt"), "no tensor 'net.mlp1.2.bias'"));
    CHECK(contains(error_of("reference_extra_layer.pt"), "unexpected key 'net.mlp1.6.weight'"));
    CHECK(contains(error_of("reference_nan.pt"), "'net.mlps1.0.weight' holds non-finite values"));
    CHECK(contains(error_of("reference_no_freqs.pt"), "no buffer 'freqs'"));
    CHECK(contains(error_of("reference_tensor.pt"), "not a dict"));
    CHECK(contains(error_of("reference_tensor.pt"), "reference_tensor.pt"));
    CHECK(contains(error_of("absent.pt"), "cannot open"));

    const std::string garbage = scratch("garbage.pt");
    std::ofstream(garbage) << "not a zip file at all";
    std::string message;
    try {
        trainer::read_reference_state_dict(garbage);
    } catch (const trainer::TrainingError& error) {
        message = error.what();
    }
    CHECK(contains(message, "not a file written by torch.save"));
}

TEST_CASE("trainer: surrogate-train import writes a file that verifies, the Flipout one with draws",
          "[trainer][import][command]") {
    const std::string data = scratch("jets.csv");
    test::write_synthetic_file(data, 2000, 4);
    for (const std::string name : {"plain", "flipout"}) {
        const std::string output = scratch(name + ".surrogate");
        std::filesystem::remove(output);
        REQUIRE(test::run_command({"import", "--state-dict", fixture("reference_" + name + ".pt"),
                                   "--data", data, "--draws", "4", "--output", output},
                                  scratch(name + ".log")) == 0);
        const format::SurrogateFile file = format::read_file(output);
        CHECK(file.members.size() == (name == "plain" ? 1u : 5u));
        CHECK(file.provenance.method == (name == "plain" ? "cfm" : "variational"));
        // the reference's fixed normalization: the label 0/1 maps to -1/+1
        CHECK(file.conditions[0].offset == 0.5);
        CHECK(file.conditions[0].scale == 0.5);
        CHECK(file.support.n_jets == 2000);
        CHECK_FALSE(file.test_vectors.empty());
    }

    // a state dict for six conditions with five named is refused before anything is written
    const std::string output = scratch("five.surrogate");
    std::filesystem::remove(output);
    CHECK(test::run_command(
              {"import", "--state-dict", fixture("reference_plain.pt"), "--data", data,
               "--conditions", "label_top,jet_pt,jet_eta,jet_phi,jet_energy", "--output", output},
              scratch("five.log")) != 0);
    CHECK_FALSE(std::filesystem::exists(output));
    CHECK(contains(test::read_text(scratch("five.log")),
                   "the network takes 6 conditions, --conditions names 5"));
}
