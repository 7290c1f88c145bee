// The toy experiment's physics: top and QCD jets as a mixture of categories, each
// a linear-Gaussian chain of particle-level variables, seen through a stochastic
// detector that adds Gaussian noise per variable. Because every category is
// Gaussian in transformed variables, the tagger (an exact likelihood ratio) and the
// truth (conditional Gaussians) are exact, not approximations. docs/toy-experiment.md
// explains each choice.
//
//   label ─> category k ─> particle level t = mu_k + G_k xi      (9 variables)
//                               │
//                 detector x_j = a_j t_j + b_j + r_j eps_j       (a, b, r by |eta| region)
//                               │
//            observed: pt, eta, phi, energy (gives the mass), n, sdmass, tau1..4
//            hidden:   displaced-vertex significance ─> tagger score
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cs::toy {

// The variables of the Gaussian model, at particle level (t) and detector level (x).
// Ratios in (0, 1) enter through their logit so that any real value is physical.
enum Variable : int {
    kLogPt = 0,        // log(pt / GeV)
    kLogMass,          // log(m / GeV), the ungroomed jet mass
    kSoftDropLogit,    // logit(m_softdrop / m): grooming only removes mass
    kTau1Logit,        // logit(tau1)
    kTau21Logit,       // logit(tau2 / tau1): N-subjettiness falls with N
    kTau32Logit,       // logit(tau3 / tau2)
    kTau43Logit,       // logit(tau4 / tau3)
    kVertex,           // log significance of the displaced vertex (b hadrons)
    kLogMultiplicity,  // log of the constituent count before rounding
    kVariables
};

// Where the detector measures a jet: tracks and vertices exist only for |eta| < 2.5.
enum class Region : int { tracker = 0, forward = 1 };
inline constexpr double kTrackerEdge = 2.5;
inline Region region_of(double eta) {
    return (eta < 0 ? -eta : eta) < kTrackerEdge ? Region::tracker : Region::forward;
}

// One mixture component: a kind of jet with its own particle-level distribution.
struct Category {
    std::string name;
    int label = 0;        // 1 top, 0 QCD
    int parton_pid = 0;   // PDG id of the generator-level parton (aux_genpart_pid)
    double weight = 0.0;  // probability within its label
    std::array<double, kVariables> mean{};
    std::array<double, kVariables> width{};  // s_j, the spread not explained by parents
    // t_j = mean_j + sum_{i<j} slope[j][i] (t_i - mean_i) + width_j xi_j
    std::array<std::array<double, kVariables>, kVariables> slope{};
};

// The detector's response to variable j in one region: x_j = gain t_j + shift + noise eps.
struct Response {
    std::array<double, kVariables> gain{};
    std::array<double, kVariables> shift{};
    std::array<double, kVariables> noise{};
};

// The jets a file holds: a window on detector-level pt and |eta|, and on multiplicity.
struct Selection {
    double pt_min = 500.0;
    double pt_max = 1000.0;
    double abs_eta_min = 0.0;  // above 0 for forward-only samples (abs_eta_min 2.5)
    double abs_eta_max = 2.0;
    int multiplicity_min = 1;
    int multiplicity_max = 100000;
};

// The processed JetClass selection, and the wider range for out-of-range studies.
Selection nominal_selection();
Selection extended_selection();  // pt 500 to 3000 GeV, |eta| < 4

// All parameters of the toy, and the joint Gaussians derived from them.
class Model {
  public:
    Model();

    const std::vector<Category>& categories() const { return categories_; }
    const Response& response(Region region) const { return responses_[static_cast<int>(region)]; }

    // The spectrum of log(pt / GeV) at particle level, shared by every category so
    // that a selection on pt does not change the category fractions.
    double log_pt_mean() const { return categories_.front().mean[kLogPt]; }
    double log_pt_width() const { return categories_.front().width[kLogPt]; }

    // eta at particle level: a unit normal, cut to the selection.
    static constexpr double kEtaWidth = 1.0;

    // Joint mean and covariance of z = (t, x), 2 * kVariables long, for a category
    // and a region (row-major, (2 kVariables)^2 numbers).
    const std::vector<double>& joint_mean(std::size_t category, Region region) const;
    const std::vector<double>& joint_covariance(std::size_t category, Region region) const;

  private:
    std::vector<Category> categories_;
    std::array<Response, 2> responses_;
    std::vector<std::vector<double>> joint_means_;        // [category * 2 + region]
    std::vector<std::vector<double>> joint_covariances_;  // [category * 2 + region]
};

// The model every part of the toy uses; built once.
const Model& model();

}  // namespace cs::toy
