// The project's error types: a format error means a file is unusable, an
// evaluation error means a query is (bad conditions, a solver that gave up).
#pragma once

#include <stdexcept>
#include <string>

namespace cs {

// A surrogate file that cannot be read or fails validation. field() is the path of
// the offending field, for example "members[3].weights".
class FormatError : public std::runtime_error {
  public:
    FormatError(const std::string& field, const std::string& message)
        : std::runtime_error(field.empty() ? message : field + ": " + message), field_(field) {}

    const std::string& field() const { return field_; }

  private:
    std::string field_;
};

// A query the runtime cannot answer: unknown or missing conditions, non-finite
// values, sizes that disagree.
class EvaluationError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// An ODE solve that did not reach its end within the step cap, or went non-finite.
class SolverError : public EvaluationError {
  public:
    using EvaluationError::EvaluationError;
};

}  // namespace cs
