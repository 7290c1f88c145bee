// Drawing toy jets: the label and category, the particle-level chain, the detector,
// and the tagger, with fixed random-number addresses per jet and attempt.
#include <cmath>
#include <stdexcept>
#include <string>

#include "cs/toy/experiment.hpp"
#include "normal_interval.hpp"

namespace cs::toy {
namespace {

double sigmoid(double value) {
    return 1.0 / (1.0 + std::exp(-value));
}

constexpr double kPi = 3.14159265358979323846;

// The uniform numbers of one attempt at a jet, by use; normals are their inverse CDF.
enum Draw : std::uint32_t {
    kDrawLabel = 0,
    kDrawCategory = 1,
    kDrawEta = 2,
    kDrawPhi = 3,
    kDrawDetectorPt = 4,
    kDrawParticle = 5,                           // 5 + j for particle-level variable j
    kDrawDetector = kDrawParticle + kVariables,  // 14 + j for detector-level variable j
    kDraws = kDrawDetector + kVariables,
};

// Each Philox block gives two uniform numbers; attempt a uses blocks 16 a onwards.
constexpr std::uint32_t kBlocksPerAttempt = 16;
static_assert(2 * kBlocksPerAttempt >= kDraws);

// The uniforms of one attempt: the 53-bit construction of CounterRandom::uniform,
// applied to both halves of each 128-bit block, which halves the Philox work.
std::array<double, kDraws> attempt_uniforms(const CounterRandom& random, std::uint64_t jet,
                                            int attempt) {
    const auto uniform = [](std::uint32_t high, std::uint32_t low) {
        const std::uint64_t mantissa = (std::uint64_t{high >> 5} << 26) | (low >> 6);
        return (static_cast<double>(mantissa) + 0.5) * 0x1.0p-53;
    };
    std::array<double, kDraws> uniforms{};
    for (std::uint32_t block = 0; 2 * block < kDraws; ++block) {
        const auto words =
            random.bits(jet, static_cast<std::uint32_t>(attempt) * kBlocksPerAttempt + block);
        uniforms[2 * block] = uniform(words[0], words[1]);
        if (2 * block + 1 < kDraws) {
            uniforms[2 * block + 1] = uniform(words[2], words[3]);
        }
    }
    return uniforms;
}

constexpr int kMaxAttempts = 10000;

}  // namespace

struct Generator::Windows {
    struct Pt {
        double spread;          // of the detector-level log pt
        double shrink;          // particle level: mean + shrink (detector - mean)
        double particle_width;  // and this spread around it
        NormalInterval window;  // the pt window in units of spread
    };
    NormalInterval eta;    // |eta| in units of the eta width
    std::array<Pt, 2> pt;  // per region
};

int rounded_multiplicity(double log_multiplicity) {
    const double count = std::floor(std::exp(log_multiplicity) + 0.5);
    return count < 1.0 ? 1 : count > 1e9 ? 1000000000 : static_cast<int>(count);
}

Observables observables(const Variables& variables, double eta, double phi) {
    Observables result;
    result.pt = std::exp(variables[kLogPt]);
    result.eta = eta;
    result.phi = phi;
    result.mass = std::exp(variables[kLogMass]);
    result.softdrop_mass = result.mass * sigmoid(variables[kSoftDropLogit]);
    result.tau[0] = sigmoid(variables[kTau1Logit]);
    result.tau[1] = result.tau[0] * sigmoid(variables[kTau21Logit]);
    result.tau[2] = result.tau[1] * sigmoid(variables[kTau32Logit]);
    result.tau[3] = result.tau[2] * sigmoid(variables[kTau43Logit]);
    result.vertex_significance = std::exp(variables[kVertex]);
    result.multiplicity = rounded_multiplicity(variables[kLogMultiplicity]);

    // a massive four-vector: E^2 = (pt cosh eta)^2 + m^2
    const double momentum = result.pt * std::cosh(eta);
    result.energy = std::sqrt(momentum * momentum + result.mass * result.mass);
    return result;
}

Generator::Generator(std::uint64_t seed, std::uint32_t stream, Selection selection,
                     const Model& model)
    : model_(model), random_(seed, stream), selection_(selection), tagger_(model) {
    if (!(selection_.pt_min > 0.0 && selection_.pt_max > selection_.pt_min &&
          selection_.abs_eta_min >= 0.0 && selection_.abs_eta_max > selection_.abs_eta_min &&
          selection_.multiplicity_max >= selection_.multiplicity_min)) {
        throw std::invalid_argument(
            "toy selection: expected 0 < pt_min < pt_max, 0 <= abs_eta_min < abs_eta_max and "
            "multiplicity_min <= multiplicity_max");
    }

    // detector-level log pt ~ N(mean, prior + noise) in the window; the particle level
    // given it shrinks towards the mean by prior / (prior + noise)
    // |eta| is a half-normal cut to [abs_eta_min, abs_eta_max], with a random sign
    const double eta_lower = selection_.abs_eta_min / Model::kEtaWidth;
    const double eta_upper = selection_.abs_eta_max / Model::kEtaWidth;
    const double mean = model_.log_pt_mean();
    const double prior = model_.log_pt_width() * model_.log_pt_width();
    const auto pt_window = [&](Region region) {
        const double noise = std::pow(model_.response(region).noise[kLogPt], 2);
        const double spread = std::sqrt(prior + noise);
        const double shrink = prior / (prior + noise);
        return Windows::Pt{spread, shrink, std::sqrt(shrink * noise),
                           NormalInterval((std::log(selection_.pt_min) - mean) / spread,
                                          (std::log(selection_.pt_max) - mean) / spread)};
    };
    windows_ = std::make_shared<const Windows>(
        Windows{NormalInterval(eta_lower, eta_upper),
                {pt_window(Region::tracker), pt_window(Region::forward)}});
}

Jet Generator::generate(std::uint64_t jet) const {
    const auto& categories = model_.categories();
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        const auto uniforms = attempt_uniforms(random_, jet, attempt);
        const auto normal = [&](std::uint32_t draw) { return normal_quantile(uniforms[draw]); };
        Jet result;

        // label, then the category within it
        result.label = uniforms[kDrawLabel] < 0.5 ? 1 : 0;
        double cumulative = 0.0;
        const double pick = uniforms[kDrawCategory];
        for (std::size_t k = 0; k < categories.size(); ++k) {
            if (categories[k].label != result.label) {
                continue;
            }
            result.category = static_cast<int>(k);
            cumulative += categories[k].weight;
            if (pick < cumulative) {
                break;
            }
        }
        const Category& category = categories[static_cast<std::size_t>(result.category)];

        // direction: eta a unit normal cut to the selection, phi flat
        const bool backward = uniforms[kDrawEta] < 0.5;
        const double magnitude_uniform = 2.0 * uniforms[kDrawEta] - (backward ? 0.0 : 1.0);
        result.eta =
            (backward ? -1.0 : 1.0) * Model::kEtaWidth * windows_->eta.draw(magnitude_uniform);
        result.phi = kPi * (2.0 * uniforms[kDrawPhi] - 1.0);
        const Region region = region_of(result.eta);
        const Response& response = model_.response(region);

        // pt: the detector-level value inside the window first, then the particle-level
        // value given it. Same joint as drawing the particle level and rejecting jets
        // outside the window, without wasting draws.
        const Windows::Pt& pt = windows_->pt[static_cast<int>(region)];
        const double mean = model_.log_pt_mean();
        const double detector_pt = mean + pt.spread * pt.window.draw(uniforms[kDrawDetectorPt]);
        result.particle[kLogPt] = mean + pt.shrink * (detector_pt - mean) +
                                  pt.particle_width * normal(kDrawParticle + kLogPt);
        result.detector[kLogPt] = detector_pt;

        // the particle-level chain, then the detector's response to each variable
        for (int j = 1; j < kVariables; ++j) {
            double value = category.mean[j];
            for (int i = 0; i < j; ++i) {
                value += category.slope[j][i] * (result.particle[i] - category.mean[i]);
            }
            result.particle[j] =
                value + category.width[j] * normal(kDrawParticle + static_cast<std::uint32_t>(j));
        }
        for (int j = 1; j < kVariables; ++j) {
            result.detector[j] =
                response.gain[j] * result.particle[j] + response.shift[j] +
                response.noise[j] * normal(kDrawDetector + static_cast<std::uint32_t>(j));
        }

        const int multiplicity = rounded_multiplicity(result.detector[kLogMultiplicity]);
        if (multiplicity < selection_.multiplicity_min ||
            multiplicity > selection_.multiplicity_max) {
            continue;
        }
        result.score = tagger_.score(result.detector, multiplicity, region);
        return result;
    }
    throw std::runtime_error("toy generator: the multiplicity window [" +
                             std::to_string(selection_.multiplicity_min) + ", " +
                             std::to_string(selection_.multiplicity_max) + "] rejected " +
                             std::to_string(kMaxAttempts) + " attempts at jet " +
                             std::to_string(jet) + " (expected a window the toy populates)");
}

}  // namespace cs::toy
