// AdamMCMC chains through the surrogate-train command: a chain from a point-estimate
// file with its metrics log and provenance, a chain killed with SIGKILL that resumes
// to exactly the members of an uninterrupted one, and the merge of two chains.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

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
#include "cs/trainer/chain.hpp"
#include "synthetic.hpp"

using namespace cs;

namespace {

std::string scratch(const std::string& name) {
    return test::scratch_path("trainer-mcmc", name);
}

pid_t start(const std::vector<std::string>& arguments, const std::string& log) {
    return test::start_command(arguments, log);
}

int run(const std::vector<std::string>& arguments, const std::string& log) {
    return test::run_command(arguments, log);
}

using test::read_text;

// A point estimate trained for one epoch on a small synthetic table, made once.
const std::string& point_estimate() {
    static const std::string path = [] {
        const std::string data = scratch("jets.csv");
        test::write_synthetic_file(data, 600, 31);
        const std::string output = scratch("point.surrogate");
        REQUIRE(run({"fit", "--data", data, "--output", output, "--epochs", "1", "--batch-size",
                     "128", "--device", "cpu"},
                    scratch("fit.log")) == 0);
        return output;
    }();
    return path;
}

// A short chain: 64 rows a step, 4 RK4 steps, a member every 3 steps.
std::vector<std::string> chain(const std::string& output, const std::string& seed) {
    return {"mcmc",
            "--start",
            point_estimate(),
            "--data",
            scratch("jets.csv"),
            "--output",
            output,
            "--batch-size",
            "64",
            "--likelihood-steps",
            "4",
            "--thin",
            "3",
            "--members",
            "3",
            "--seed",
            seed,
            "--device",
            "cpu"};
}

std::string hyperparameter(const format::SurrogateFile& file, const std::string& key) {
    for (const format::Entry& entry : file.provenance.hyperparameters) {
        if (entry.key == key) {
            return entry.value;
        }
    }
    return "";
}

}  // namespace

TEST_CASE("trainer: mcmc keeps thinned chain members after the point estimate and logs each step",
          "[trainer][command][adam-mcmc]") {
    const std::string output = scratch("chain.surrogate");
    const std::string metrics = scratch("chain.jsonl");
    std::vector<std::string> arguments = chain(output, "4");
    arguments.insert(arguments.end(), {"--metrics", metrics});
    REQUIRE(run(arguments, scratch("chain.log")) == 0);

    const format::SurrogateFile file = format::read_file(output);
    REQUIRE(file.members.size() == 4);
    CHECK(file.members[0].origin == "point-estimate");
    CHECK(file.members[0].weights == format::read_file(point_estimate()).members[0].weights);
    for (size_t m = 1; m < 4; ++m) {
        CHECK(file.members[m].origin == "chain-step");
        CHECK(file.members[m].step == 3 * m);
    }
    CHECK(file.provenance.method == "adam-mcmc");
    CHECK(hyperparameter(file, "chain_temperature") == "50");
    CHECK(hyperparameter(file, "chain_thin") == "3");
    CHECK(runtime::Ensemble(file).n_members() == 4);  // the fresh test vectors hold

    std::ifstream lines(metrics);
    int count = 0;
    for (std::string line; std::getline(lines, line); ++count) {
        CHECK(line.find("\"acceptance_rate\": ") != std::string::npos);
        CHECK(line.find("\"step_length\": ") != std::string::npos);
    }
    CHECK(count == 9);

    // a missing start file is named in a one-line error
    CHECK(run({"mcmc", "--start", scratch("absent.surrogate"), "--data", scratch("jets.csv"),
               "--output", output},
              scratch("error.log")) == 1);
    CHECK(read_text(scratch("error.log")).find("absent.surrogate") != std::string::npos);
}

TEST_CASE("trainer: a chain killed with SIGKILL resumes to the members of an uninterrupted one",
          "[trainer][command][adam-mcmc][resume]") {
    // A new minibatch every step (the reference's); three steps per minibatch, where
    // the checkpoint at step 2 falls inside one; and a gradient reused across
    // minibatches, which the checkpoint must carry because the batch it came from is
    // gone. The resumed chain must find the same numbers.
    const std::vector<std::vector<std::string>> variants = {
        {"--batch-steps", "1"}, {"--batch-steps", "3"}, {"--reuse-gradient"}};
    for (const auto& variant : variants) {
        CAPTURE(variant);
        const std::string reference = scratch("uninterrupted.surrogate");
        std::vector<std::string> uninterrupted_arguments = chain(reference, "5");
        uninterrupted_arguments.insert(uninterrupted_arguments.end(), variant.begin(),
                                       variant.end());
        REQUIRE(run(uninterrupted_arguments, scratch("uninterrupted.log")) == 0);

        const std::string checkpoint = scratch("chain.checkpoint");
        const std::string output = scratch("resumed.surrogate");
        std::filesystem::remove(checkpoint);
        std::filesystem::remove(output);
        std::vector<std::string> interrupted = chain(output, "5");
        interrupted.insert(interrupted.end(), variant.begin(), variant.end());
        interrupted.insert(interrupted.end(),
                           {"--checkpoint", checkpoint, "--checkpoint-every", "2", "--resume"});
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

        REQUIRE(run(interrupted, scratch("resumed.log")) == 0);
        CHECK(read_text(scratch("resumed.log")).find("resumed at step") != std::string::npos);
        const format::SurrogateFile resumed = format::read_file(output);
        const format::SurrogateFile uninterrupted = format::read_file(reference);
        REQUIRE(resumed.members.size() == uninterrupted.members.size());
        for (size_t m = 0; m < resumed.members.size(); ++m) {
            CHECK(resumed.members[m].weights == uninterrupted.members[m].weights);
        }
        // the chain moved: the members are not the point estimate
        CHECK(resumed.members.back().weights != resumed.members[0].weights);
    }
}

TEST_CASE("trainer: merge joins chains of one point estimate into one ensemble",
          "[trainer][command][adam-mcmc]") {
    const std::string first = scratch("seed6.surrogate");
    const std::string second = scratch("seed7.surrogate");
    REQUIRE(run(chain(first, "6"), scratch("seed6.log")) == 0);
    REQUIRE(run(chain(second, "7"), scratch("seed7.log")) == 0);
    const std::string merged = scratch("merged.surrogate");
    REQUIRE(run({"merge", "--output", merged, first, second}, scratch("merge.log")) == 0);

    const format::SurrogateFile file = format::read_file(merged);
    REQUIRE(file.members.size() == 7);
    CHECK(file.members[0].origin == "point-estimate");
    CHECK(file.members[1].weights == format::read_file(first).members[1].weights);
    CHECK(file.members[4].weights == format::read_file(second).members[1].weights);
    CHECK(file.members[1].weights != file.members[4].weights);  // different seeds
    CHECK(hyperparameter(file, "merged_chains") == "2");
    CHECK(runtime::Ensemble(file).n_members() == 7);

    // a chain of another point estimate is refused
    format::SurrogateFile other = format::read_file(second);
    other.members[0].weights[0] += 0.5f;
    const std::string moved = scratch("other-start.surrogate");
    format::write_file(other, moved, format::Encoding::binary);
    CHECK(run({"merge", "--output", merged, first, moved}, scratch("bad-merge.log")) == 1);
    CHECK(read_text(scratch("bad-merge.log")).find("same point estimate") != std::string::npos);
}

TEST_CASE(
    "trainer: with K steps per minibatch, K steps share their rows and the next K take new ones",
    "[trainer][adam-mcmc]") {
    trainer::ChainOptions options;
    options.batch_size = 100;
    options.batch_steps = 3;
    // 250 rows: minibatches start at rows 0, 100 and 200 of each epoch's order
    const std::vector<int64_t> first = {0, 0, 0, 100, 100, 100, 200, 200, 200, 0};
    for (uint64_t step = 0; step < first.size(); ++step) {
        const trainer::ChainBatch batch = trainer::chain_batch(options, step, 250);
        CHECK(batch.first == first[step]);
        CHECK(batch.fresh == (step % 3 == 0));
        CHECK(batch.epoch == (step < 9 ? 0u : 1u));
    }
    options.batch_steps = 1;  // the reference's: a new minibatch every step
    CHECK(trainer::chain_batch(options, 2, 250).first == 200);
    CHECK(trainer::chain_batch(options, 3, 250).epoch == 1);
    CHECK(trainer::chain_batch(options, 3, 250).fresh);
    options.fixed_batch = true;  // one batch: never fresh, so its loss is always reused
    CHECK_FALSE(trainer::chain_batch(options, 7, 250).fresh);
    CHECK(trainer::chain_batch(options, 7, 250).first == 0);
}

TEST_CASE("trainer: mcmc --reuse-gradient evaluates one gradient a step and is recorded",
          "[trainer][command][adam-mcmc]") {
    // The number of loss gradients after each step, from the metrics log.
    const auto gradients_per_step = [](const std::vector<std::string>& extra,
                                       const std::string& name) {
        const std::string metrics = scratch(name + ".jsonl");
        std::vector<std::string> arguments = chain(scratch(name + ".surrogate"), "6");
        arguments.insert(arguments.end(), extra.begin(), extra.end());
        arguments.insert(arguments.end(), {"--metrics", metrics});
        REQUIRE(run(arguments, scratch(name + ".log")) == 0);
        std::vector<int> counts;
        std::ifstream lines(metrics);
        for (std::string line; std::getline(lines, line);) {
            const auto at = line.find("\"gradients\": ");
            REQUIRE(at != std::string::npos);
            counts.push_back(std::stoi(line.substr(at + 13)));
        }
        return counts;
    };
    const std::vector<int> fresh = gradients_per_step({}, "fresh");
    const std::vector<int> reused = gradients_per_step({"--reuse-gradient"}, "reused");
    REQUIRE(fresh.size() == 9);
    REQUIRE(reused.size() == 9);
    for (size_t k = 0; k < fresh.size(); ++k) {
        CHECK(fresh[k] == 2 * static_cast<int>(k + 1));  // both states on every minibatch
        CHECK(reused[k] == static_cast<int>(k + 2));     // the start's, then the proposals'
    }
    const format::SurrogateFile file = format::read_file(scratch("reused.surrogate"));
    CHECK(hyperparameter(file, "chain_reuse_gradient") == "true");
    CHECK(hyperparameter(format::read_file(scratch("fresh.surrogate")), "chain_reuse_gradient") ==
          "false");
    // the acceptance now weighs losses of different minibatches: another chain
    CHECK(file.members.back().weights !=
          format::read_file(scratch("fresh.surrogate")).members.back().weights);
}

TEST_CASE("trainer: mcmc --batch-steps runs, is recorded, and refuses zero",
          "[trainer][command][adam-mcmc]") {
    const std::string output = scratch("chain-k.surrogate");
    std::vector<std::string> arguments = chain(output, "5");
    arguments.insert(arguments.end(), {"--batch-steps", "3"});
    REQUIRE(run(arguments, scratch("chain-k.log")) == 0);
    const format::SurrogateFile file = format::read_file(output);
    CHECK(file.members.size() == 4);
    CHECK(hyperparameter(file, "chain_batch_steps") == "3");

    arguments.back() = "0";
    CHECK(run(arguments, scratch("chain-k0.log")) == 1);
    CHECK(read_text(scratch("chain-k0.log")).find("batch steps") != std::string::npos);
}
