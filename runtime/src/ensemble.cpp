// Answers of an ensemble of flows. In one dimension the flow's map from noise to
// score is increasing, so quantiles need one forward solve and tag probabilities one
// backward solve, without Monte Carlo (DESIGN.md, "One dimension is a gift").
#include "cs/runtime/ensemble.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "cs/errors.hpp"
#include "cs/format_io.hpp"
#include "cs/random.hpp"

namespace cs::runtime {
namespace {

// A step group for each jet's `per_jet` consecutive rows.
StepGroups per_jet_groups(Eigen::Index jets, Eigen::Index per_jet) {
    return StepGroups(static_cast<size_t>(jets), per_jet);
}

constexpr double kPi = 3.14159265358979323846;

constexpr uint32_t kNoiseStream = 1;
constexpr uint32_t kMemberStream = 2;

// A number as an ostream with this precision prints it (%g), for messages.
std::string number_text(double value, int precision = 6) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*g", precision, value);
    return text;
}

double log_normal_density(double z) {
    return -0.5 * z * z - 0.5 * std::log(2.0 * kPi);
}

void check_level(double level, const char* what) {
    if (!(level > 0.0 && level < 1.0)) {
        throw EvaluationError(std::string(what) + " " + number_text(level) +
                              " must lie strictly between 0 and 1");
    }
}

// Repeats every column of `normalized` `copies` times: jet j's copies are columns
// j * copies ... j * copies + copies - 1.
Eigen::MatrixXf repeat_columns(const Eigen::MatrixXf& normalized, Eigen::Index copies) {
    Eigen::MatrixXf repeated(normalized.rows(), normalized.cols() * copies);
    for (Eigen::Index j = 0; j < normalized.cols(); ++j) {
        repeated.middleCols(j * copies, copies) = normalized.col(j).replicate(1, copies);
    }
    return repeated;
}

// Piecewise-linear z(x) through a member's grid, extrapolated linearly at both ends;
// xs must be increasing.
double interpolate_noise(const std::vector<double>& xs, const std::vector<double>& zs, double x) {
    const size_t n = xs.size();
    if (n == 1) {
        return zs[0];
    }
    size_t upper = static_cast<size_t>(std::upper_bound(xs.begin(), xs.end(), x) - xs.begin());
    upper = std::clamp<size_t>(upper, 1, n - 1);
    const size_t lower = upper - 1;
    const double span = xs[upper] - xs[lower];
    if (span <= 0.0) {
        return zs[upper];
    }
    return zs[lower] + (zs[upper] - zs[lower]) * (x - xs[lower]) / span;
}

// The x in [low, high] where the increasing cdf reaches level, to 1e-12: regula falsi
// with the Illinois modification (the end that stays twice in a row has its value
// halved, so both ends close in), about ten evaluations where bisection took forty.
// The members' quantiles at the level bracket the root; an end is returned as it is
// when the level lies outside [cdf(low), cdf(high)].
template <typename Cdf>
double mixture_quantile(const Cdf& cdf, double level, double low, double high) {
    double f_low = cdf(low) - level;
    double f_high = cdf(high) - level;
    if (f_low >= 0.0) {
        return low;
    }
    if (f_high <= 0.0) {
        return high;
    }
    int kept = 0;  // -1: low was kept last time, +1: high was
    for (int iteration = 0; iteration < 100 && high - low > 1e-12; ++iteration) {
        double x = (low * f_high - high * f_low) / (f_high - f_low);
        if (!(x > low && x < high)) {
            x = 0.5 * (low + high);
        }
        const double f = cdf(x) - level;
        if (f == 0.0) {
            return x;
        }
        if (f < 0.0) {
            low = x;
            f_low = f;
            if (kept == 1) {
                f_high *= 0.5;
            }
            kept = 1;
        } else {
            high = x;
            f_high = f;
            if (kept == -1) {
                f_low *= 0.5;
            }
            kept = -1;
        }
    }
    return 0.5 * (low + high);
}

// The Cholesky factor L of a small symmetric matrix (L L^T = a), written out rather
// than Eigen's LLT, whose blocked algorithm brings matrix-product kernels into the
// WebAssembly module for a 6 x 6 matrix. False unless a is positive definite.
bool cholesky(const Eigen::MatrixXd& a, Eigen::MatrixXd& lower) {
    const Eigen::Index n = a.rows();
    lower = Eigen::MatrixXd::Zero(n, n);
    for (Eigen::Index j = 0; j < n; ++j) {
        double diagonal = a(j, j);
        for (Eigen::Index k = 0; k < j; ++k) {
            diagonal -= lower(j, k) * lower(j, k);
        }
        if (!(diagonal > 0.0) || !std::isfinite(diagonal)) {
            return false;
        }
        lower(j, j) = std::sqrt(diagonal);
        for (Eigen::Index i = j + 1; i < n; ++i) {
            double sum = a(i, j);
            for (Eigen::Index k = 0; k < j; ++k) {
                sum -= lower(i, k) * lower(j, k);
            }
            lower(i, j) = sum / lower(j, j);
        }
    }
    return true;
}

// x with L x = b, by forward substitution.
Eigen::VectorXd solve_lower(const Eigen::MatrixXd& lower, const Eigen::VectorXd& b) {
    Eigen::VectorXd x(b.size());
    for (Eigen::Index i = 0; i < b.size(); ++i) {
        double sum = b(i);
        for (Eigen::Index k = 0; k < i; ++k) {
            sum -= lower(i, k) * x(k);
        }
        x(i) = sum / lower(i, i);
    }
    return x;
}

}  // namespace

Ensemble::Ensemble(format::SurrogateFile file, Arithmetic arithmetic) : file_(std::move(file)) {
    format::validate(file_);
    const auto n_conditions = static_cast<Eigen::Index>(file_.conditions.size());
    for (const auto& member : file_.members) {
        fields_.push_back(std::make_unique<VelocityField>(file_.architecture, n_conditions,
                                                          member.weights, arithmetic));
    }
    solver_ = solver_options(file_.solver);

    support_mean_ = Eigen::Map<const Eigen::VectorXd>(file_.support.mean.data(), n_conditions);
    const Eigen::MatrixXd covariance = Eigen::Map<const Eigen::MatrixXd>(
        file_.support.covariance.data(), n_conditions, n_conditions);
    if (!cholesky(covariance, support_lower_)) {
        throw FormatError("support.covariance", "expected a positive definite matrix");
    }
    check_test_vectors();
}

const VelocityField& Ensemble::member(Eigen::Index m) const {
    if (m < 0 || m >= n_members()) {
        throw EvaluationError("member " + std::to_string(m) +
                              " does not exist (the surrogate has " + std::to_string(n_members()) +
                              ")");
    }
    return *fields_[static_cast<size_t>(m)];
}

void Ensemble::check_test_vectors() const {
    for (size_t i = 0; i < file_.test_vectors.size(); ++i) {
        const auto& vector = file_.test_vectors[i];
        Eigen::MatrixXd conditions(1, n_conditions());
        for (Eigen::Index c = 0; c < n_conditions(); ++c) {
            conditions(0, c) = vector.conditions[static_cast<size_t>(c)];
        }
        const FieldSystem system(member(vector.member), normalize(conditions));
        Eigen::ArrayXd t = Eigen::ArrayXd::Constant(1, vector.time);
        Eigen::ArrayXd x = Eigen::ArrayXd::Constant(1, vector.state);
        Eigen::ArrayXd v;
        Eigen::ArrayXd dv_dx;
        system.velocity(t, x, nullptr, v, &dv_dx);

        const double tolerance = file_.test_tolerance;
        const auto close = [tolerance](double value, double expected) {
            return std::fabs(value - expected) <= tolerance * std::max(1.0, std::fabs(expected));
        };
        const std::string path = "test_vectors[" + std::to_string(i) + "]";
        if (!close(v(0), vector.velocity)) {
            throw FormatError(path + ".velocity",
                              "this runtime computes v = " + number_text(v(0), 9) +
                                  " but the file expects " + number_text(vector.velocity, 9) +
                                  " (tolerance " + number_text(tolerance, 9) +
                                  "): the weights do not match the architecture");
        }
        if (!close(dv_dx(0), vector.velocity_derivative)) {
            throw FormatError(path + ".velocity_derivative",
                              "this runtime computes dv/dx = " + number_text(dv_dx(0), 9) +
                                  " but the file expects " +
                                  number_text(vector.velocity_derivative, 9) + " (tolerance " +
                                  number_text(tolerance, 9) + ")");
        }
    }
}

Eigen::MatrixXf Ensemble::normalize(const Eigen::MatrixXd& conditions) const {
    if (conditions.cols() != n_conditions()) {
        throw EvaluationError("expected " + std::to_string(n_conditions()) +
                              " conditions per jet, got " + std::to_string(conditions.cols()));
    }
    Eigen::MatrixXf normalized(n_conditions(), conditions.rows());
    for (Eigen::Index c = 0; c < n_conditions(); ++c) {
        const auto& condition = file_.conditions[static_cast<size_t>(c)];
        for (Eigen::Index j = 0; j < conditions.rows(); ++j) {
            const double value = conditions(j, c);
            if (!std::isfinite(value)) {
                throw EvaluationError("condition " + condition.name + " of jet " +
                                      std::to_string(j) + " is " + number_text(value) +
                                      "; expected a finite number");
            }
            normalized(c, j) = static_cast<float>((value - condition.offset) / condition.scale);
        }
    }
    return normalized;
}

double Ensemble::logit(double score) const {
    return std::log(score / (1.0 - score)) / file_.score_transform.scale;
}

double Ensemble::score(double x) const {
    return 1.0 / (1.0 + std::exp(-file_.score_transform.scale * x));
}

Eigen::ArrayXd Ensemble::transform(Eigen::Index m, const Eigen::MatrixXf& normalized,
                                   const Eigen::ArrayXd& noise, const SolverOptions& options,
                                   const StepGroups& groups) const {
    const FieldSystem system(member(m), normalized);
    return solve(system, noise, 1.0, 0.0, options, false, groups).x;
}

Eigen::ArrayXd Ensemble::inverse(Eigen::Index m, const Eigen::MatrixXf& normalized,
                                 const Eigen::ArrayXd& x, const SolverOptions& options,
                                 Eigen::ArrayXd* log_det, const StepGroups& groups) const {
    const FieldSystem system(member(m), normalized);
    SolveResult result = solve(system, x, 0.0, 1.0, options, log_det != nullptr, groups);
    if (log_det) {
        *log_det = std::move(result.log_det);
    }
    return result.x;
}

std::pair<Eigen::Index, Eigen::Index> Ensemble::member_range(Eigen::Index first,
                                                             Eigen::Index count) const {
    const Eigen::Index n = n_members();
    if (count < 0) {
        count = n - std::min(std::max(first, Eigen::Index{0}), n);
    }
    if (first < 0 || first + count > n) {
        throw EvaluationError("members " + std::to_string(first) + " to " +
                              std::to_string(first + count - 1) + " asked of a surrogate with " +
                              std::to_string(n) + " members");
    }
    return {first, count};
}

std::vector<Eigen::MatrixXd> Ensemble::quantiles(const Eigen::MatrixXd& conditions,
                                                 const std::vector<double>& levels,
                                                 const SolverOptions& options,
                                                 Eigen::Index first_member,
                                                 Eigen::Index count) const {
    const auto [first, n] = member_range(first_member, count);
    const auto n_levels = static_cast<Eigen::Index>(levels.size());
    Eigen::ArrayXd noise(n_levels);
    for (Eigen::Index l = 0; l < n_levels; ++l) {
        check_level(levels[static_cast<size_t>(l)], "quantile level");
        noise(l) = normal_quantile(levels[static_cast<size_t>(l)]);
    }
    const Eigen::MatrixXf repeated = repeat_columns(normalize(conditions), n_levels);
    const Eigen::ArrayXd all_noise = noise.replicate(conditions.rows(), 1);

    std::vector<Eigen::MatrixXd> result;
    for (Eigen::Index m = first; m < first + n; ++m) {
        const Eigen::ArrayXd x =
            transform(m, repeated, all_noise, options, per_jet_groups(conditions.rows(), n_levels));
        Eigen::MatrixXd scores(conditions.rows(), n_levels);
        for (Eigen::Index j = 0; j < conditions.rows(); ++j) {
            for (Eigen::Index l = 0; l < n_levels; ++l) {
                scores(j, l) = score(x(j * n_levels + l));
            }
        }
        result.push_back(std::move(scores));
    }
    return result;
}

std::vector<Eigen::MatrixXd> Ensemble::tag_probability(const Eigen::MatrixXd& conditions,
                                                       const std::vector<double>& cuts,
                                                       const SolverOptions& options,
                                                       Eigen::Index first_member,
                                                       Eigen::Index count) const {
    const auto [first, n] = member_range(first_member, count);
    const auto n_cuts = static_cast<Eigen::Index>(cuts.size());
    Eigen::ArrayXd x_cut(n_cuts);
    for (Eigen::Index k = 0; k < n_cuts; ++k) {
        check_level(cuts[static_cast<size_t>(k)], "cut");
        x_cut(k) = logit(cuts[static_cast<size_t>(k)]);
    }
    const Eigen::MatrixXf repeated = repeat_columns(normalize(conditions), n_cuts);
    const Eigen::ArrayXd all_x = x_cut.replicate(conditions.rows(), 1);

    std::vector<Eigen::MatrixXd> result;
    for (Eigen::Index m = first; m < first + n; ++m) {
        const Eigen::ArrayXd z = inverse(m, repeated, all_x, options, nullptr,
                                         per_jet_groups(conditions.rows(), n_cuts));
        Eigen::MatrixXd probability(conditions.rows(), n_cuts);
        for (Eigen::Index j = 0; j < conditions.rows(); ++j) {
            for (Eigen::Index k = 0; k < n_cuts; ++k) {
                probability(j, k) = 1.0 - normal_cdf(z(j * n_cuts + k));
            }
        }
        result.push_back(std::move(probability));
    }
    return result;
}

std::vector<Eigen::MatrixXd> Ensemble::log_density(const Eigen::MatrixXd& conditions,
                                                   const Eigen::MatrixXd& scores,
                                                   const SolverOptions& options) const {
    if (scores.rows() != conditions.rows()) {
        throw EvaluationError("log_density: " + std::to_string(scores.rows()) +
                              " rows of scores for " + std::to_string(conditions.rows()) + " jets");
    }
    const Eigen::Index per_jet = scores.cols();
    Eigen::ArrayXd x(conditions.rows() * per_jet);
    for (Eigen::Index j = 0; j < conditions.rows(); ++j) {
        for (Eigen::Index k = 0; k < per_jet; ++k) {
            check_level(scores(j, k), "score");
            x(j * per_jet + k) = logit(scores(j, k));
        }
    }
    const Eigen::MatrixXf repeated = repeat_columns(normalize(conditions), per_jet);
    const double scale = file_.score_transform.scale;

    std::vector<Eigen::MatrixXd> result;
    for (Eigen::Index m = 0; m < n_members(); ++m) {
        Eigen::ArrayXd log_det;
        const Eigen::ArrayXd z =
            inverse(m, repeated, x, options, &log_det, per_jet_groups(conditions.rows(), per_jet));
        Eigen::MatrixXd density(conditions.rows(), per_jet);
        for (Eigen::Index j = 0; j < conditions.rows(); ++j) {
            for (Eigen::Index k = 0; k < per_jet; ++k) {
                const Eigen::Index row = j * per_jet + k;
                const double s = scores(j, k);
                // log p(score) = log N(z) + log det - log |d score / d x|
                density(j, k) =
                    log_normal_density(z(row)) + log_det(row) - std::log(scale * s * (1.0 - s));
            }
        }
        result.push_back(std::move(density));
    }
    return result;
}

std::vector<Eigen::MatrixXd> Ensemble::cdf(const Eigen::MatrixXd& conditions,
                                           const Eigen::MatrixXd& scores,
                                           const SolverOptions& options) const {
    if (scores.rows() != conditions.rows()) {
        throw EvaluationError("cdf: " + std::to_string(scores.rows()) + " rows of scores for " +
                              std::to_string(conditions.rows()) + " jets");
    }
    const Eigen::Index per_jet = scores.cols();
    const Eigen::MatrixXf normalized = normalize(conditions);

    // Scores at the ends of [0, 1] have CDF 0 or 1 exactly; the rest are solved.
    std::vector<Eigen::Index> solved;
    for (Eigen::Index row = 0; row < scores.size(); ++row) {
        const double s = scores(row / per_jet, row % per_jet);
        if (std::isnan(s)) {
            throw EvaluationError("cdf: score of jet " + std::to_string(row / per_jet) + " is NaN");
        }
        if (s > 0.0 && s < 1.0) {
            solved.push_back(row);
        }
    }
    Eigen::MatrixXf columns(normalized.rows(), static_cast<Eigen::Index>(solved.size()));
    Eigen::ArrayXd x(static_cast<Eigen::Index>(solved.size()));
    StepGroups groups(static_cast<size_t>(conditions.rows()), 0);  // each jet's solved rows
    for (size_t i = 0; i < solved.size(); ++i) {
        const Eigen::Index row = solved[i];
        columns.col(static_cast<Eigen::Index>(i)) = normalized.col(row / per_jet);
        x(static_cast<Eigen::Index>(i)) = logit(scores(row / per_jet, row % per_jet));
        ++groups[static_cast<size_t>(row / per_jet)];
    }

    std::vector<Eigen::MatrixXd> result;
    for (Eigen::Index m = 0; m < n_members(); ++m) {
        Eigen::MatrixXd probability =
            (scores.array() >= 1.0).cast<double>().matrix();  // 0 below, 1 at the top end
        if (!solved.empty()) {
            const Eigen::ArrayXd z = inverse(m, columns, x, options, nullptr, groups);
            for (size_t i = 0; i < solved.size(); ++i) {
                const Eigen::Index row = solved[i];
                probability(row / per_jet, row % per_jet) =
                    normal_cdf(z(static_cast<Eigen::Index>(i)));
            }
        }
        result.push_back(std::move(probability));
    }
    return result;
}

Eigen::MatrixXd Ensemble::sample(
    const Eigen::MatrixXd& conditions, uint32_t n_per_jet, uint64_t seed, uint64_t first_jet,
    const SolverOptions& options, Eigen::Index member_choice,
    Eigen::Matrix<uint32_t, Eigen::Dynamic, Eigen::Dynamic>* members) const {
    if (member_choice >= n_members()) {
        member(member_choice);
    }
    const Eigen::MatrixXf normalized = normalize(conditions);
    const Eigen::Index n_jets = conditions.rows();
    const CounterRandom noise_random(seed, kNoiseStream);
    const CounterRandom member_random(seed, kMemberStream);

    // Draw the member and noise of every sample, then solve member by member.
    std::vector<std::vector<std::pair<Eigen::Index, uint32_t>>> assigned(
        static_cast<size_t>(n_members()));
    for (Eigen::Index j = 0; j < n_jets; ++j) {
        const uint64_t item = first_jet + static_cast<uint64_t>(j);
        for (uint32_t k = 0; k < n_per_jet; ++k) {
            const auto m = member_choice >= 0
                               ? static_cast<uint32_t>(member_choice)
                               : member_random.below(static_cast<uint32_t>(n_members()), item, k);
            assigned[m].emplace_back(j, k);
        }
    }

    Eigen::MatrixXd scores(n_jets, n_per_jet);
    if (members) {
        members->resize(n_jets, n_per_jet);
    }
    for (Eigen::Index m = 0; m < n_members(); ++m) {
        const auto& draws = assigned[static_cast<size_t>(m)];
        if (draws.empty()) {
            continue;
        }
        const auto n = static_cast<Eigen::Index>(draws.size());
        Eigen::MatrixXf columns(normalized.rows(), n);
        Eigen::ArrayXd noise(n);
        StepGroups groups;  // the member's draws of each jet, which come jet by jet
        for (Eigen::Index i = 0; i < n; ++i) {
            const auto [jet, k] = draws[static_cast<size_t>(i)];
            columns.col(i) = normalized.col(jet);
            noise(i) = noise_random.normal(first_jet + static_cast<uint64_t>(jet), k);
            if (i == 0 || draws[static_cast<size_t>(i - 1)].first != jet) {
                groups.push_back(0);
            }
            ++groups.back();
        }
        const Eigen::ArrayXd x = transform(m, columns, noise, options, groups);
        for (Eigen::Index i = 0; i < n; ++i) {
            const auto [jet, k] = draws[static_cast<size_t>(i)];
            scores(jet, k) = score(x(i));
            if (members) {
                (*members)(jet, k) = static_cast<uint32_t>(m);
            }
        }
    }
    return scores;
}

std::vector<SupportCheck> Ensemble::support(const Eigen::MatrixXd& conditions) const {
    const Eigen::MatrixXf normalized = normalize(conditions);
    const auto& stored = file_.support;
    std::vector<SupportCheck> checks;
    for (Eigen::Index j = 0; j < conditions.rows(); ++j) {
        SupportCheck check;
        const Eigen::VectorXd offset = normalized.col(j).cast<double>() - support_mean_;
        const Eigen::VectorXd whitened = solve_lower(support_lower_, offset);
        check.distance = whitened.norm();

        // The share of training jets closer than this one, from the stored quantiles.
        const auto& levels = stored.distance_levels;
        const auto& distances = stored.distance_quantiles;
        if (levels.empty()) {
            check.distance_quantile = check.distance <= stored.distance_threshold ? 0.0 : 1.0;
        } else if (check.distance <= distances.front()) {
            check.distance_quantile = levels.front();
        } else if (check.distance >= distances.back()) {
            check.distance_quantile = levels.back();
        } else {
            const auto upper = static_cast<size_t>(
                std::upper_bound(distances.begin(), distances.end(), check.distance) -
                distances.begin());
            const size_t lower = upper - 1;
            const double span = distances[upper] - distances[lower];
            const double fraction = span > 0.0 ? (check.distance - distances[lower]) / span : 1.0;
            check.distance_quantile = levels[lower] + fraction * (levels[upper] - levels[lower]);
        }

        for (Eigen::Index c = 0; c < n_conditions(); ++c) {
            const auto& condition = file_.conditions[static_cast<size_t>(c)];
            // A margin of 1e-6 of the feature's scale: producers store the range after a
            // float32 round trip, which can move a label of exactly 0 or 1 by 1e-8.
            const double value = conditions(j, c);
            const double margin = 1e-6 * condition.scale;
            if (value < condition.support.min - margin || value > condition.support.max + margin) {
                check.outside_range.push_back(condition.name);
            }
        }
        check.out_of_support =
            check.distance > stored.distance_threshold || !check.outside_range.empty();
        checks.push_back(std::move(check));
    }
    return checks;
}

namespace {

// Where a summary's numbers sit in summary_levels(): the query's levels come first,
// in their order; a moment level equal to one of them (to 1e-12) is solved once.
struct SummaryGrid {
    std::vector<double> levels;
    std::vector<Eigen::Index> level_rows;
    std::vector<Eigen::Index> moment_rows;
};

SummaryGrid summary_grid(const QueryOptions& query) {
    if (query.moment_points < 2) {
        throw EvaluationError("moment_points must be at least 2");
    }
    SummaryGrid grid;
    const auto index_of = [&grid](double level) {
        for (size_t i = 0; i < grid.levels.size(); ++i) {
            if (std::fabs(grid.levels[i] - level) < 1e-12) {
                return static_cast<Eigen::Index>(i);
            }
        }
        grid.levels.push_back(level);
        return static_cast<Eigen::Index>(grid.levels.size() - 1);
    };
    for (double level : query.quantile_levels) {
        grid.level_rows.push_back(index_of(level));
    }
    const auto n_moments = static_cast<double>(query.moment_points);
    for (uint32_t k = 0; k < query.moment_points; ++k) {
        grid.moment_rows.push_back(index_of((static_cast<double>(k) + 0.5) / n_moments));
    }
    return grid;
}

void check_solutions(const std::vector<Eigen::MatrixXd>& matrices, const char* what,
                     Eigen::Index n_members, Eigen::Index rows, Eigen::Index cols) {
    if (static_cast<Eigen::Index>(matrices.size()) != n_members) {
        throw EvaluationError(std::string(what) + ": " + std::to_string(matrices.size()) +
                              " members given, the surrogate has " + std::to_string(n_members));
    }
    for (size_t m = 0; m < matrices.size(); ++m) {
        const Eigen::MatrixXd& matrix = matrices[m];
        if (matrix.rows() != rows || matrix.cols() != cols) {
            throw EvaluationError(std::string(what) + " of member " + std::to_string(m) + ": " +
                                  std::to_string(matrix.rows()) + " x " +
                                  std::to_string(matrix.cols()) + " numbers, expected " +
                                  std::to_string(rows) + " x " + std::to_string(cols));
        }
        if (!(matrix.array() >= 0.0 && matrix.array() <= 1.0).all()) {
            throw EvaluationError(std::string(what) + " of member " + std::to_string(m) +
                                  ": a value outside [0, 1]");
        }
    }
}

}  // namespace

std::vector<double> Ensemble::summary_levels(const QueryOptions& query) {
    return summary_grid(query).levels;
}

Ensemble::MemberSolutions Ensemble::solve_members(const Eigen::MatrixXd& conditions,
                                                  const QueryOptions& query,
                                                  const SolverOptions& options,
                                                  Eigen::Index first_member,
                                                  Eigen::Index count) const {
    const SummaryGrid grid = summary_grid(query);
    member_range(first_member, count);
    MemberSolutions solutions;
    solutions.quantiles = quantiles(conditions, grid.levels, options, first_member, count);
    solutions.tag_probability =
        tag_probability(conditions, query.cuts, options, first_member, count);
    return solutions;
}

std::vector<JetSummary> Ensemble::summarize(const Eigen::MatrixXd& conditions,
                                            const QueryOptions& query,
                                            const SolverOptions& options) const {
    return combine(conditions, query, solve_members(conditions, query, options, 0, n_members()));
}

std::vector<JetSummary> Ensemble::combine(const Eigen::MatrixXd& conditions,
                                          const QueryOptions& query,
                                          const MemberSolutions& solutions) const {
    const SummaryGrid grid = summary_grid(query);
    const Eigen::Index n_jets = conditions.rows();
    const auto n_levels = static_cast<Eigen::Index>(query.quantile_levels.size());
    const auto n_moments = static_cast<Eigen::Index>(query.moment_points);
    const auto n_cuts = static_cast<Eigen::Index>(query.cuts.size());
    const Eigen::Index n_members_ = n_members();
    const std::vector<double>& levels = grid.levels;
    const std::vector<Eigen::Index>& level_rows = grid.level_rows;
    const std::vector<Eigen::Index>& moment_rows = grid.moment_rows;
    check_solutions(solutions.quantiles, "quantiles", n_members_, n_jets,
                    static_cast<Eigen::Index>(levels.size()));
    check_solutions(solutions.tag_probability, "tag probabilities", n_members_, n_jets, n_cuts);
    for (double level : query.quantile_levels) {
        check_level(level, "quantile level");
    }
    for (double cut : query.cuts) {
        check_level(cut, "cut");
    }
    const auto& member_quantiles = solutions.quantiles;
    const auto& member_tag = solutions.tag_probability;
    const auto checks = support(conditions);

    // The grid of every member, sorted by level, for the mixture's quantiles.
    std::vector<size_t> order(levels.size());
    for (size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return levels[a] < levels[b]; });
    std::vector<double> grid_noise;
    for (size_t i : order) {
        grid_noise.push_back(normal_quantile(levels[i]));
    }

    std::vector<JetSummary> summaries;
    for (Eigen::Index j = 0; j < n_jets; ++j) {
        JetSummary summary;
        summary.quantile_levels = query.quantile_levels;
        summary.cuts = query.cuts;
        summary.support = checks[static_cast<size_t>(j)];

        // per member: quantiles, tag probabilities, moments
        std::vector<std::vector<double>> grid_x(static_cast<size_t>(n_members_));
        Eigen::MatrixXd moment_scores(n_members_, n_moments);
        for (Eigen::Index m = 0; m < n_members_; ++m) {
            const Eigen::MatrixXd& q = member_quantiles[static_cast<size_t>(m)];
            summary.member_quantiles.emplace_back();
            std::vector<double>& own = summary.member_quantiles.back();
            for (Eigen::Index l = 0; l < n_levels; ++l) {
                own.push_back(q(j, level_rows[static_cast<size_t>(l)]));
            }
            for (Eigen::Index k = 0; k < n_moments; ++k) {
                moment_scores(m, k) = q(j, moment_rows[static_cast<size_t>(k)]);
            }
            std::vector<double> tags;
            for (Eigen::Index k = 0; k < n_cuts; ++k) {
                tags.push_back(member_tag[static_cast<size_t>(m)](j, k));
            }
            summary.member_tag_probability.push_back(std::move(tags));

            double running = -std::numeric_limits<double>::infinity();
            for (size_t i : order) {
                // Solver error can break monotonicity by a hair; keep the grid sorted.
                running = std::max(running, logit(std::clamp(q(j, static_cast<Eigen::Index>(i)),
                                                             1e-300, 1.0 - 1e-16)));
                grid_x[static_cast<size_t>(m)].push_back(running);
            }
        }

        // ensemble: band, mixture quantiles as roots of the mean member CDF
        const auto mixture_cdf = [&](double x) {
            double sum = 0.0;
            for (Eigen::Index m = 0; m < n_members_; ++m) {
                sum += normal_cdf(interpolate_noise(grid_x[static_cast<size_t>(m)], grid_noise, x));
            }
            return sum / static_cast<double>(n_members_);
        };
        for (Eigen::Index l = 0; l < n_levels; ++l) {
            double lower = std::numeric_limits<double>::infinity();
            double upper = -lower;
            for (Eigen::Index m = 0; m < n_members_; ++m) {
                const double value =
                    summary.member_quantiles[static_cast<size_t>(m)][static_cast<size_t>(l)];
                lower = std::min(lower, value);
                upper = std::max(upper, value);
            }
            summary.quantile_lower.push_back(lower);
            summary.quantile_upper.push_back(upper);

            const double level = query.quantile_levels[static_cast<size_t>(l)];
            summary.quantiles.push_back(
                score(mixture_quantile(mixture_cdf, level, logit(std::max(lower, 1e-300)),
                                       logit(std::min(upper, 1.0 - 1e-16)))));
        }

        for (Eigen::Index k = 0; k < n_cuts; ++k) {
            Eigen::ArrayXd p(n_members_);
            for (Eigen::Index m = 0; m < n_members_; ++m) {
                p(m) =
                    summary.member_tag_probability[static_cast<size_t>(m)][static_cast<size_t>(k)];
            }
            summary.tag_probability.push_back(p.mean());
            summary.tag_probability_std.push_back(std::sqrt((p - p.mean()).square().mean()));
        }

        // Midpoint quadrature over levels: E[s] = integral of Q(alpha) d alpha.
        const Eigen::VectorXd means = moment_scores.rowwise().mean();
        double aleatoric = 0.0;
        for (Eigen::Index m = 0; m < n_members_; ++m) {
            aleatoric += (moment_scores.row(m).array() - means(m)).square().mean();
            summary.member_mean_score.push_back(means(m));
        }
        aleatoric /= static_cast<double>(n_members_);
        const double epistemic = (means.array() - means.mean()).square().mean();
        summary.mean_score = means.mean();
        summary.aleatoric_std = std::sqrt(aleatoric);
        summary.epistemic_std = std::sqrt(epistemic);
        summary.total_std = std::sqrt(aleatoric + epistemic);
        summary.same_noise_spread =
            (moment_scores.colwise().maxCoeff() - moment_scores.colwise().minCoeff()).mean();

        summaries.push_back(std::move(summary));
    }
    return summaries;
}

}  // namespace cs::runtime
