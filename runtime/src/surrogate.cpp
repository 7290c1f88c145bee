// The Eigen-free embedding API over runtime::Ensemble.
#include "cs/surrogate.hpp"

#include <cmath>

#include "cs/format_io.hpp"
#include "cs/runtime/ensemble.hpp"

namespace cs {

Surrogate Surrogate::load(const std::string& path, Arithmetic arithmetic) {
    return Surrogate(format::read_file(path), arithmetic);
}

Surrogate Surrogate::from_bytes(const std::string& bytes, Arithmetic arithmetic) {
    return Surrogate(format::read_bytes(bytes), arithmetic);
}

Surrogate::Surrogate(format::SurrogateFile file, Arithmetic arithmetic)
    : ensemble_(std::make_shared<const runtime::Ensemble>(std::move(file), arithmetic)) {}

const format::SurrogateFile& Surrogate::file() const {
    return ensemble_->file();
}

std::vector<std::string> Surrogate::condition_names() const {
    std::vector<std::string> names;
    for (const auto& condition : file().conditions) {
        names.push_back(condition.name);
    }
    return names;
}

size_t Surrogate::n_members() const {
    return file().members.size();
}

std::vector<double> Surrogate::row(const Conditions& jet) const {
    const auto& conditions = file().conditions;
    for (const auto& [name, value] : jet) {
        bool known = false;
        for (const auto& condition : conditions) {
            known = known || condition.name == name;
        }
        if (!known) {
            std::string list;
            for (const auto& condition : conditions) {
                list += (list.empty() ? "" : ", ") + condition.name;
            }
            throw EvaluationError("unknown condition \"" + name + "\" (this surrogate takes " +
                                  list + ")");
        }
        if (!std::isfinite(value)) {
            throw EvaluationError("condition \"" + name + "\" is " + std::to_string(value) +
                                  "; expected a finite number");
        }
    }
    std::vector<double> values;
    for (const auto& condition : conditions) {
        const auto found = jet.find(condition.name);
        if (found == jet.end()) {
            throw EvaluationError("missing condition \"" + condition.name + "\"" +
                                  (condition.unit.empty() ? "" : " [" + condition.unit + "]"));
        }
        values.push_back(found->second);
    }
    return values;
}

namespace {

Eigen::MatrixXd as_matrix(const std::vector<std::vector<double>>& rows, size_t n_conditions) {
    Eigen::MatrixXd matrix(static_cast<Eigen::Index>(rows.size()),
                           static_cast<Eigen::Index>(n_conditions));
    for (size_t j = 0; j < rows.size(); ++j) {
        for (size_t c = 0; c < n_conditions; ++c) {
            matrix(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c)) = rows[j][c];
        }
    }
    return matrix;
}

}  // namespace

std::vector<JetSummary> Surrogate::summarize(const std::vector<Conditions>& jets,
                                             const QueryOptions& query) const {
    std::vector<std::vector<double>> rows;
    for (const auto& jet : jets) {
        rows.push_back(row(jet));
    }
    return ensemble_->summarize(as_matrix(rows, file().conditions.size()), query,
                                ensemble_->default_solver());
}

JetSummary Surrogate::summarize(const Conditions& jet, const QueryOptions& query) const {
    return summarize(std::vector<Conditions>{jet}, query).front();
}

double Surrogate::tag_probability(const Conditions& jet, double cut) const {
    const auto matrix = as_matrix({row(jet)}, file().conditions.size());
    const auto members = ensemble_->tag_probability(matrix, {cut}, ensemble_->default_solver());
    double sum = 0.0;
    for (const auto& member : members) {
        sum += member(0, 0);
    }
    return sum / static_cast<double>(members.size());
}

double Surrogate::density(const Conditions& jet, double score) const {
    const auto matrix = as_matrix({row(jet)}, file().conditions.size());
    const Eigen::MatrixXd scores = Eigen::MatrixXd::Constant(1, 1, score);
    const auto members = ensemble_->log_density(matrix, scores, ensemble_->default_solver());
    double sum = 0.0;
    for (const auto& member : members) {
        sum += std::exp(member(0, 0));
    }
    return sum / static_cast<double>(members.size());
}

std::vector<double> Surrogate::sample(const Conditions& jet, uint32_t n, uint64_t seed,
                                      uint64_t jet_index) const {
    const auto matrix = as_matrix({row(jet)}, file().conditions.size());
    const Eigen::MatrixXd scores =
        ensemble_->sample(matrix, n, seed, jet_index, ensemble_->default_solver());
    return std::vector<double>(scores.data(), scores.data() + scores.size());
}

SupportCheck Surrogate::check_support(const Conditions& jet) const {
    return ensemble_->support(as_matrix({row(jet)}, file().conditions.size())).front();
}

}  // namespace cs
