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

void set(Category& category, Variable variable, double mean, double width) {
    category.mean[variable] = mean;
    category.width[variable] = width;
}

std::vector<Category> make_categories() {
    std::vector<Category> categories;

    // Top jets (label 1), by how much of the t -> b W -> b q q' decay the jet holds.
    // Fully merged: mass at the top mass (172.5 GeV, 7 % natural plus hadronization
    // width), three prongs (small tau3/tau2), a b hadron (displaced vertex), many
    // constituents.
    Category top = base("top: fully merged", 1, 6, 0.70);
    set(top, kLogMass, std::log(172.5), 0.07);
    set(top, kSoftDropLogit, logit(0.92), 0.45);
    set(top, kTau1Logit, logit(0.22), 0.25);
    set(top, kTau21Logit, logit(0.55), 0.40);
    set(top, kTau32Logit, logit(0.50), 0.40);
    set(top, kTau43Logit, logit(0.75), 0.40);
    set(top, kVertex, 1.6, 0.7);
    set(top, kLogMultiplicity, std::log(46.0), 0.15);
    categories.push_back(top);

    // Only the W merged (the W shoulder of the mass): two prongs (small tau2/tau1),
    // the b outside the jet, so no displaced vertex.
    Category w_only = base("top: W merged", 1, 6, 0.20);
    set(w_only, kLogMass, std::log(82.0), 0.08);
    set(w_only, kSoftDropLogit, logit(0.90), 0.45);
    set(w_only, kTau1Logit, logit(0.14), 0.30);
    set(w_only, kTau21Logit, logit(0.35), 0.40);
    set(w_only, kTau32Logit, logit(0.72), 0.35);
    set(w_only, kTau43Logit, logit(0.78), 0.40);
    set(w_only, kVertex, 0.3, 0.6);
    set(w_only, kLogMultiplicity, std::log(37.0), 0.15);
    categories.push_back(w_only);

    // b plus one quark: a broad mass between W and top, a vertex, intermediate shapes.
    Category partial = base("top: b plus one quark", 1, 6, 0.10);
    set(partial, kLogMass, std::log(115.0), 0.25);
    set(partial, kSoftDropLogit, logit(0.75), 0.55);
    set(partial, kTau1Logit, logit(0.20), 0.30);
    set(partial, kTau21Logit, logit(0.50), 0.45);
    set(partial, kTau32Logit, logit(0.68), 0.40);
    set(partial, kTau43Logit, logit(0.78), 0.40);
    set(partial, kVertex, 1.4, 0.7);
    set(partial, kLogMultiplicity, std::log(38.0), 0.16);
    categories.push_back(partial);

    // QCD jets (label 0). Their mass comes from radiation, so it scales with pt
    // (m ~ pt * angle at fixed angle: slope 1 in logs) and falls steeply; one prong,
    // so the tau ratios are near 1; grooming removes much of the mass.
    Category gluon = base("QCD: gluon", 0, 21, 0.50);
    set(gluon, kLogMass, std::log(45.0), 0.40);
    set(gluon, kSoftDropLogit, logit(0.60), 0.90);
    set(gluon, kTau1Logit, logit(0.12), 0.35);
    set(gluon, kTau21Logit, logit(0.70), 0.45);
    set(gluon, kTau32Logit, logit(0.78), 0.35);
    set(gluon, kTau43Logit, logit(0.82), 0.35);
    set(gluon, kVertex, 0.0, 0.5);
    set(gluon, kLogMultiplicity, std::log(26.0), 0.18);
    gluon.slope[kLogMass][kLogPt] = 1.0;
    gluon.slope[kTau21Logit][kLogMass] = -0.3;  // heavy QCD jets look a little two-prong
    categories.push_back(gluon);

    // Light quarks radiate less than gluons (colour factor 4/3 against 3): lighter,
    // narrower jets with fewer constituents.
    Category quark = base("QCD: light quark", 0, 1, 0.45);
    set(quark, kLogMass, std::log(32.0), 0.45);
    set(quark, kSoftDropLogit, logit(0.55), 0.90);
    set(quark, kTau1Logit, logit(0.08), 0.40);
    set(quark, kTau21Logit, logit(0.72), 0.45);
    set(quark, kTau32Logit, logit(0.80), 0.35);
    set(quark, kTau43Logit, logit(0.83), 0.35);
    set(quark, kVertex, 0.05, 0.5);
    set(quark, kLogMultiplicity, std::log(19.0), 0.20);
    quark.slope[kLogMass][kLogPt] = 1.0;
    quark.slope[kTau21Logit][kLogMass] = -0.3;
    categories.push_back(quark);

    // Gluon splitting to b b-bar: QCD jets with a displaced vertex and a two-prong
    // tendency, the background that vertexing alone cannot remove.
    Category bottom = base("QCD: g -> b b-bar", 0, 21, 0.05);
    set(bottom, kLogMass, std::log(42.0), 0.40);
    set(bottom, kSoftDropLogit, logit(0.65), 0.80);
    set(bottom, kTau1Logit, logit(0.11), 0.35);
    set(bottom, kTau21Logit, logit(0.55), 0.45);
    set(bottom, kTau32Logit, logit(0.76), 0.35);
    set(bottom, kTau43Logit, logit(0.80), 0.35);
    set(bottom, kVertex, 1.3, 0.7);
    set(bottom, kLogMultiplicity, std::log(25.0), 0.18);
    bottom.slope[kLogMass][kLogPt] = 1.0;
    categories.push_back(bottom);
    return categories;
}

std::array<Response, 2> make_responses() {
    Response tracker;
    for (int j = 0; j < kVariables; ++j) {
        tracker.gain[j] = 1.0;
    }
    // jet energy resolution 5 %, mass resolution 8 %, substructure smeared by
    // calorimeter granularity, vertex significance by the track resolution
    tracker.noise[kLogPt] = 0.05;
    tracker.noise[kLogMass] = 0.08;
    tracker.noise[kSoftDropLogit] = 0.25;
    tracker.noise[kTau1Logit] = 0.10;
    tracker.noise[kTau21Logit] = 0.20;
    tracker.noise[kTau32Logit] = 0.20;
    tracker.noise[kTau43Logit] = 0.25;
    tracker.noise[kVertex] = 0.40;
    // 90 % of the constituents are reconstructed, with 8 % fluctuations (merged and
    // split clusters, noise hits)
    tracker.shift[kLogMultiplicity] = std::log(0.90);
    tracker.noise[kLogMultiplicity] = 0.08;

    // Beyond the tracker (|eta| > 2.5) there are no tracks: the calorimeter alone
    // measures energy and mass worse, merges more constituents, and the vertex
    // significance is pure noise (gain 0).
    Response forward = tracker;
    forward.noise[kLogPt] = 0.10;
    forward.noise[kLogMass] = 0.15;
    forward.noise[kSoftDropLogit] = 0.40;
    forward.noise[kTau1Logit] = 0.20;
    forward.noise[kTau21Logit] = 0.35;
    forward.noise[kTau32Logit] = 0.35;
    forward.noise[kTau43Logit] = 0.40;
    forward.gain[kVertex] = 0.0;
    forward.noise[kVertex] = 0.5;
    forward.shift[kLogMultiplicity] = std::log(0.60);
    forward.noise[kLogMultiplicity] = 0.12;
    return {tracker, forward};
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
