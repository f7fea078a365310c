// SPDX-License-Identifier: GPL-2.0-only
// The one place that talks to Z3's solver. A question is always "does this claim hold for every
// assignment of the inputs that satisfies the assumptions in scope?", and the answer is never a
// bool: proved, a counterexample (with a model to read it from), or unknown (timeout, or Z3 gave
// up) -- an unknown is never a proof.
//
// One context and one solver serve every proof: a fresh solver costs about 5.5 ms a query, a
// push/pop about 0.2 ms (TOOLCHAIN.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <z3++.h>

namespace mmudiff::models {

enum class Answer { Proved, Counterexample, Unknown };

const char* answer_name(Answer a);  // "proved", "failed", "unknown"

struct Outcome {
  Answer answer = Answer::Unknown;
  std::string reason;  // why Z3 answered unknown ("timeout", "canceled", ...)
};

class Solver {
 public:
  explicit Solver(unsigned timeout_ms = 20000);
  Solver(const Solver&) = delete;
  Solver& operator=(const Solver&) = delete;

  z3::context& ctx() { return ctx_; }

  // A fresh 64-bit (or narrower) input named name.
  z3::expr word(const std::string& name, unsigned bits = 64);
  z3::expr lit(uint64_t value, unsigned bits = 64) { return ctx_.bv_val(value, bits); }

  // Adds a fact to the innermost scope: the domain of the inputs.
  void assume(const z3::expr& fact) { solver_.add(fact); }

  // Is claim true for every assignment the assumptions allow? Asks Z3 for an assignment where
  // it is false; after Counterexample, value() reads that assignment.
  Outcome prove(const z3::expr& claim);
  // prove(), asked of a fresh bit-vector solver holding the assumptions in scope: Z3's
  // non-incremental QF_BV tactics (simplify, bit-blast once) answer the many small queries of a
  // proof over every configuration far faster than the incremental solver.
  Outcome prove_one_shot(const z3::expr& claim);
  // Is there an assignment where condition holds? (Counterexample means "yes, found one".)
  Outcome find(const z3::expr& condition);

  // The largest value of x (read unsigned) for which condition holds, found bit by bit from the
  // top; nullopt when condition never holds or Z3 cannot tell.
  std::optional<uint64_t> maximize(const z3::expr& x, const z3::expr& condition);
  std::optional<uint64_t> minimize(const z3::expr& x, const z3::expr& condition);

  // After prove() answered Counterexample or find() found: e's value in that assignment.
  uint64_t value(const z3::expr& e);
  bool holds(const z3::expr& condition);

  // Assumptions added inside a Scope are dropped when it ends.
  class Scope {
   public:
    explicit Scope(Solver& s) : s_(s) { s_.solver_.push(); }
    ~Scope() { s_.solver_.pop(); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Solver& s_;
  };

 private:
  Outcome check(const z3::expr& condition);

  z3::context ctx_;
  z3::solver solver_;
  unsigned timeout_ms_;
  std::optional<z3::model> model_;
};

}  // namespace mmudiff::models
