// The toy's parameters, with the reason for each, and the joint Gaussians of the
// particle- and detector-level variables that the tagger and the truth use.
#include "cs/toy/model.hpp"

#include <Eigen/Dense>
#include <cmath>

namespace cs::toy {
namespace {

double logit(double p) {
    return std::log(p / (1.0 - p));
}

constexpr int kJoint = 2 * kVariables;

// Parameters that every category shares: the pt spectrum and the pt dependences.
Category base(const std::string& name, int label, int pid, double weight) {
    Category category;
    category.name = name;
    category.label = label;
    category.parton_pid = pid;
    category.weight = weight;

    // A log-normal pt spectrum whose upper tail, cut to 500-1000 GeV at detector
    // level, falls like the processed JetClass spectrum (mean near 620 GeV, spread
    // near 110 GeV); one spectrum for all categories keeps the label balance and the
    // category fractions independent of the pt window.
    category.mean[kLogPt] = std::log(330.0);
    category.width[kLogPt] = 0.42;

    // Means of the other variables are those at the spectrum's centre, 330 GeV; the
    // slopes carry them to the jets' pt (a jet at 620 GeV has log(620/330) = 0.63 more).
    // N-subjettiness scales with the jet's opening angle, m / pt: tau1 rises with mass
    // and falls with pt. Multiplicity grows with pt (more radiation phase space,
    // roughly n ~ pt^0.3) and with mass.
    category.slope[kTau1Logit][kLogMass] = 1.0;
    category.slope[kTau1Logit][kLogPt] = -1.0;
    category.slope[kLogMultiplicity][kLogPt] = 0.3;
    category.slope[kLogMultiplicity][kLogMass] = 0.15;
    return category;
}

// One category per row: typical values at the spectrum's centre and their spreads.
// Values are the mass [GeV], the fractions sdmass / m, tau1, tau2 / tau1, tau3 / tau2
// and tau4 / tau3 (each entering through its logit), the log vertex significance and
// the constituent count (entering through its log); widths are in those transformed
// variables. mass_slope is d log m / d log pt, two_prong_slope d logit(tau2/tau1) /
// d log m.
struct CategoryRow {
    const char* name;
    int label;
    int pid;
    double weight;
    double mass_slope;
    double two_prong_slope;
    std::array<double, 8> values;
    std::array<double, 8> widths;
};

// clang-format off
constexpr CategoryRow kCategoryRows[] = {
    // Top jets (label 1), by how much of t -> b W -> b q q' the jet holds. Fully
    // merged: mass at 172.5 GeV (width from the resonance and hadronization), three
    // prongs (small tau3/tau2), a b hadron (displaced vertex), many constituents.
    {"top: fully merged", 1, 6, 0.70, 0.0, 0.0,
     {172.5, 0.92, 0.22, 0.55, 0.50, 0.75, 1.6, 46.0},
     {0.07, 0.45, 0.25, 0.40, 0.40, 0.40, 0.7, 0.15}},
    // Only the W merged (the W shoulder of the mass): two prongs (small tau2/tau1),
    // the b outside the jet, so no displaced vertex.
    {"top: W merged", 1, 6, 0.20, 0.0, 0.0,
     {82.0, 0.90, 0.14, 0.35, 0.72, 0.78, 0.3, 37.0},
     {0.08, 0.45, 0.30, 0.40, 0.35, 0.40, 0.6, 0.15}},
    // b plus one quark: a broad mass between W and top, a vertex, intermediate shapes.
    {"top: b plus one quark", 1, 6, 0.10, 0.0, 0.0,
     {115.0, 0.75, 0.20, 0.50, 0.68, 0.78, 1.4, 38.0},
     {0.25, 0.55, 0.30, 0.45, 0.40, 0.40, 0.7, 0.16}},
    // QCD jets (label 0): the mass comes from radiation, so it scales with pt (m ~ pt
    // times the opening angle: slope 1 in logs) and falls steeply; one prong, so the
    // tau ratios are near 1 (heavy QCD jets look a little two-prong); grooming
    // removes much of the mass.
    {"QCD: gluon", 0, 21, 0.50, 1.0, -0.3,
     {45.0, 0.60, 0.12, 0.70, 0.78, 0.82, 0.0, 26.0},
     {0.40, 0.90, 0.35, 0.45, 0.35, 0.35, 0.5, 0.18}},
    // Light quarks radiate less than gluons (colour factor 4/3 against 3): lighter,
    // narrower jets with fewer constituents.
    {"QCD: light quark", 0, 1, 0.45, 1.0, -0.3,
     {32.0, 0.55, 0.08, 0.72, 0.80, 0.83, 0.05, 19.0},
     {0.45, 0.90, 0.40, 0.45, 0.35, 0.35, 0.5, 0.20}},
    // Gluon splitting to b b-bar: QCD jets with a displaced vertex and a two-prong
    // tendency, the background that vertexing alone cannot remove.
    {"QCD: g -> b b-bar", 0, 21, 0.05, 1.0, 0.0,
     {42.0, 0.65, 0.11, 0.55, 0.76, 0.80, 1.3, 25.0},
     {0.40, 0.80, 0.35, 0.45, 0.35, 0.35, 0.7, 0.18}},
};
// clang-format on

std::vector<Category> make_categories() {
    std::vector<Category> categories;
    for (const CategoryRow& row : kCategoryRows) {
        Category category = base(row.name, row.label, row.pid, row.weight);
        category.slope[kLogMass][kLogPt] = row.mass_slope;
        category.slope[kTau21Logit][kLogMass] = row.two_prong_slope;
        for (int i = 0; i < 8; ++i) {
            const int variable = kLogMass + i;
            const bool fraction = variable >= kSoftDropLogit && variable <= kTau43Logit;
            const bool logarithm = variable == kLogMass || variable == kLogMultiplicity;
            category.mean[variable] = fraction    ? logit(row.values[i])
                                      : logarithm ? std::log(row.values[i])
                                                  : row.values[i];
            category.width[variable] = row.widths[i];
        }
        categories.push_back(category);
    }
    return categories;
}

// Detector noise per variable, in the variable's own scale, for the tracker region
// and the forward region. In the tracker region: jet energy resolution 5 %, mass
// resolution 8 %, substructure smeared by the calorimeter's granularity, the vertex
// significance by the track resolution, and 8 % fluctuations of the constituent
// count (merged and split clusters, noise hits). Beyond the tracker (|eta| > 2.5)
// the calorimeter alone measures everything worse, and the vertex significance is
// pure noise.
// clang-format off
constexpr std::array<std::array<double, kVariables>, 2> kNoise = {{
    // log pt  log m  sd/m  tau1  tau21  tau32  tau43  vertex  log n
    {  0.05,   0.08,  0.25, 0.10, 0.20,  0.20,  0.25,  0.40,   0.08},  // tracker
    {  0.10,   0.15,  0.40, 0.20, 0.35,  0.35,  0.40,  0.50,   0.12},  // forward
}};
// clang-format on

// The fraction of constituents reconstructed: 90 % with tracks, 60 % without, where
// the calorimeter merges neighbours.
constexpr std::array<double, 2> kEfficiency = {0.90, 0.60};

std::array<Response, 2> make_responses() {
    std::array<Response, 2> responses;
    for (int region = 0; region < 2; ++region) {
        Response& response = responses[region];
        for (int j = 0; j < kVariables; ++j) {
            response.gain[j] = 1.0;
            response.noise[j] = kNoise[region][j];
        }
        response.shift[kLogMultiplicity] = std::log(kEfficiency[region]);
    }
    // without tracks there is no vertex to measure: gain 0
    responses[static_cast<int>(Region::forward)].gain[kVertex] = 0.0;
    return responses;
}

}  // namespace

Selection nominal_selection() {
    return Selection{};
}

Selection extended_selection() {
    Selection selection;
    selection.pt_max = 3000.0;
    selection.abs_eta_max = 4.0;
    return selection;
}

Model::Model() : categories_(make_categories()), responses_(make_responses()) {
    using Matrix = Eigen::Matrix<double, kVariables, kVariables>;
    using Joint = Eigen::Matrix<double, kJoint, kJoint>;

    for (const Category& category : categories_) {
        // t - mean = B (t - mean) + S xi, so t - mean = (I - B)^-1 S xi
        Matrix slopes = Matrix::Zero();
        Matrix widths = Matrix::Zero();
        for (int j = 0; j < kVariables; ++j) {
            widths(j, j) = category.width[j];
            for (int i = 0; i < j; ++i) {
                slopes(j, i) = category.slope[j][i];
            }
        }
        const Matrix loading = (Matrix::Identity() - slopes).inverse() * widths;
        const Matrix particle_covariance = loading * loading.transpose();

        for (const Response& response : responses_) {
            // x = A t + b + R eps: the joint of (t, x) is Gaussian
            Matrix gain = Matrix::Zero();
            Matrix noise = Matrix::Zero();
            for (int j = 0; j < kVariables; ++j) {
                gain(j, j) = response.gain[j];
                noise(j, j) = response.noise[j] * response.noise[j];
            }
            Joint covariance;
            covariance.topLeftCorner<kVariables, kVariables>() = particle_covariance;
            covariance.topRightCorner<kVariables, kVariables>() = particle_covariance * gain;
            covariance.bottomLeftCorner<kVariables, kVariables>() = gain * particle_covariance;
            covariance.bottomRightCorner<kVariables, kVariables>() =
                gain * particle_covariance * gain + noise;

            std::vector<double> mean(kJoint);
            for (int j = 0; j < kVariables; ++j) {
                mean[j] = category.mean[j];
                mean[kVariables + j] = response.gain[j] * category.mean[j] + response.shift[j];
            }
            std::vector<double> flat(kJoint * kJoint);
            Eigen::Map<Eigen::Matrix<double, kJoint, kJoint, Eigen::RowMajor>>(flat.data()) =
                covariance;
            joint_means_.push_back(std::move(mean));
            joint_covariances_.push_back(std::move(flat));
        }
    }
}

const std::vector<double>& Model::joint_mean(std::size_t category, Region region) const {
    return joint_means_.at(category * 2 + static_cast<std::size_t>(region));
}

const std::vector<double>& Model::joint_covariance(std::size_t category, Region region) const {
    return joint_covariances_.at(category * 2 + static_cast<std::size_t>(region));
}

const Model& model() {
    static const Model instance;
    return instance;
}

}  // namespace cs::toy
