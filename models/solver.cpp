// SPDX-License-Identifier: GPL-2.0-only
#include "models/solver.h"

#include <stdexcept>

namespace mmudiff::models {

const char* answer_name(Answer a) {
  switch (a) {
    case Answer::Proved:
      return "proved";
    case Answer::Counterexample:
      return "failed";
    case Answer::Unknown:
      return "unknown";
  }
  return "unknown";
}

Solver::Solver(unsigned timeout_ms) : solver_(ctx_), timeout_ms_(timeout_ms) {
  z3::params p(ctx_);
  p.set("timeout", timeout_ms);
  solver_.set(p);
}

z3::expr Solver::word(const std::string& name, unsigned bits) {
  return ctx_.bv_const(name.c_str(), bits);
}

Outcome Solver::check(const z3::expr& condition) {
  model_.reset();
  Outcome out;
  // The condition goes in as a scoped assertion, so the solver's other facts stay untouched.
  Scope scope(*this);
  solver_.add(condition);
  switch (solver_.check()) {
    case z3::unsat:
      out.answer = Answer::Proved;
      break;
    case z3::sat:
      out.answer = Answer::Counterexample;
      model_.emplace(solver_.get_model());
      break;
    case z3::unknown:
      out.answer = Answer::Unknown;
      out.reason = solver_.reason_unknown();
      break;
  }
  return out;
}

Outcome Solver::prove_one_shot(const z3::expr& claim) {
  model_.reset();
  Outcome out;
  z3::solver once(ctx_, "QF_BV");
  z3::params p(ctx_);
  p.set("timeout", timeout_ms_);
  once.set(p);
  for (const z3::expr& fact : solver_.assertions()) once.add(fact);
  once.add(!claim);
  switch (once.check()) {
    case z3::unsat:
      out.answer = Answer::Proved;
      break;
    case z3::sat:
      out.answer = Answer::Counterexample;
      model_.emplace(once.get_model());
      break;
    case z3::unknown:
      out.answer = Answer::Unknown;
      out.reason = once.reason_unknown();
      break;
  }
  return out;
}

Outcome Solver::prove(const z3::expr& claim) {
  return check(!claim);
}

Outcome Solver::find(const z3::expr& condition) {
  return check(condition);
}

std::optional<uint64_t> Solver::maximize(const z3::expr& x, const z3::expr& condition) {
  const unsigned width = x.get_sort().bv_size();
  z3::expr fixed = condition;
  if (find(fixed).answer != Answer::Counterexample) return std::nullopt;
  for (unsigned i = width; i-- > 0;) {
    z3::expr one = fixed && x.extract(i, i) == ctx_.bv_val(1, 1);
    Outcome o = find(one);
    if (o.answer == Answer::Unknown) return std::nullopt;
    fixed =
        o.answer == Answer::Counterexample ? one : fixed && x.extract(i, i) == ctx_.bv_val(0, 1);
  }
  if (find(fixed).answer != Answer::Counterexample) return std::nullopt;
  return value(x);
}

std::optional<uint64_t> Solver::minimize(const z3::expr& x, const z3::expr& condition) {
  const unsigned width = x.get_sort().bv_size();
  z3::expr fixed = condition;
  if (find(fixed).answer != Answer::Counterexample) return std::nullopt;
  for (unsigned i = width; i-- > 0;) {
    z3::expr zero = fixed && x.extract(i, i) == ctx_.bv_val(0, 1);
    Outcome o = find(zero);
    if (o.answer == Answer::Unknown) return std::nullopt;
    fixed =
        o.answer == Answer::Counterexample ? zero : fixed && x.extract(i, i) == ctx_.bv_val(1, 1);
  }
  if (find(fixed).answer != Answer::Counterexample) return std::nullopt;
  return value(x);
}

uint64_t Solver::value(const z3::expr& e) {
  if (!model_) throw std::logic_error("Solver::value without a counterexample");
  z3::expr v = model_->eval(e, true);
  if (v.is_bool()) return v.is_true() ? 1 : 0;
  return v.get_numeral_uint64();
}

bool Solver::holds(const z3::expr& condition) {
  return value(condition) != 0;
}

}  // namespace mmudiff::models
