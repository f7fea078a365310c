// SPDX-License-Identifier: GPL-2.0-only
#include "models/cross_check.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>

#include "mmu/format/decode.h"
#include "mmu/memory/sim_memory.h"
#include "models/arm64_s2_model.h"
#include "oracles/invariants.h"

namespace mmudiff::models {

namespace {

const char* const kRules[] = {"reserved-bits", "block-alignment", "device-exec", "owner"};

// One table page holding one descriptor at index 0, checked by the real oracle.
class OracleProbe {
 public:
  OracleProbe() : memory_(MemoryLimits{.max_pages = 16, .quarantine = 0}) {
    page_ = static_cast<uint64_t*>(memory_.zalloc_page());
  }

  std::vector<std::string> rules(uint64_t desc, unsigned level, bool fwb) {
    const bool was = page_[0] != 0;
    page_[0] = desc;
    if (!was && desc) memory_.get_page(page_);
    if (was && !desc) memory_.put_page(page_);
    TableRoot root;
    root.ia_bits = 48;
    root.start_level = level;
    root.pgd_pa = memory_.virt_to_phys(page_);
    root.pgd_pages = 1;
    root.fwb = fwb;
    std::vector<std::string> out;
    for (const Objection& v : check_invariants(root, memory_)) out.push_back(v.rule);
    return out;
  }

  bool reports(uint64_t desc, unsigned level, bool fwb, const std::string& rule) {
    auto r = rules(desc, level, fwb);
    return std::find(r.begin(), r.end(), rule) != r.end();
  }

 private:
  SimMemory memory_;
  uint64_t* page_;
};

// The model's verdict for rule on d.
z3::expr model_rule(const Arm64S2Model& m, z3::context& ctx, const std::string& rule,
                    const z3::expr& d, unsigned level, bool fwb) {
  const S2Config c{48, 48, fwb};
  const z3::expr zero = ctx.bv_val(0, 64);
  if (rule == "reserved-bits") {
    z3::expr leaf_reserved = ctx.bool_val(false);
    for (const ForbiddenField& f : m.leaf_forbidden_fields(level, c))
      if (f.kind != ForbiddenField::Kind::Alignment)
        leaf_reserved = leaf_reserved || m.bits(d, f.hi, f.lo) != zero;
    return m.is_reserved_encoding(d, level) ||
           (m.is_table(d, level) && m.table_sets_forbidden_bit(d, c)) ||
           (m.is_leaf(d, level) && leaf_reserved);
  }
  if (rule == "block-alignment") {
    z3::expr misaligned = ctx.bool_val(false);
    for (const ForbiddenField& f : m.leaf_forbidden_fields(level, c))
      if (f.kind == ForbiddenField::Kind::Alignment)
        misaligned = misaligned || m.bits(d, f.hi, f.lo) != zero;
    return m.is_block(d, level) && misaligned;
  }
  if (rule == "device-exec") return m.is_leaf(d, level) && m.device(d, fwb) && m.executable(d);
  // owner: a non-zero invalid descriptor must be an annotation of an id KVM has, at level 3.
  const z3::expr ok_annotation = m.owner_annotation(d) &&
                                 z3::ule(m.owner_id(d), ctx.bv_val(kKvmMaxOwnerId, 64)) &&
                                 ctx.bool_val(level == 3);
  return !m.valid(d) && d != zero && !ok_annotation;
}

// The bits a rule reads as one field, whose values the lifting tabulates.
std::vector<unsigned> field_bits(const std::string& rule) {
  if (rule == "device-exec") return {2, 3, 4, 5, 53, 54};  // MemAttr, XN
  if (rule == "owner") return {2, 3, 4, 5, 6, 7, 8, 9};    // the owner id
  return {};
}

uint64_t scatter(uint64_t v, const std::vector<unsigned>& positions) {
  uint64_t out = 0;
  for (size_t i = 0; i < positions.size(); ++i)
    if (v >> i & 1) out |= uint64_t{1} << positions[i];
  return out;
}

// The oracle's rule, for descriptors whose bits [1:0] are cls, as a formula over d.
z3::expr lift_oracle(OracleProbe& oracle, z3::context& ctx, const std::string& rule, unsigned level,
                     bool fwb, unsigned cls, const z3::expr& d) {
  const std::vector<unsigned> fb = field_bits(rule);
  const uint64_t field_mask = scatter(~uint64_t{0}, fb);
  z3::expr table = ctx.bool_val(false);
  std::optional<uint64_t> quiet_field;  // a field value the rule does not trip on
  for (uint64_t v = 0; v < (uint64_t{1} << fb.size()); ++v) {
    const uint64_t f = scatter(v, fb);
    if (oracle.reports(cls | f, level, fwb, rule)) {
      table = table || (d & ctx.bv_val(field_mask, 64)) == ctx.bv_val(f, 64);
    } else if (!quiet_field) {
      quiet_field = f;
    }
  }
  if (!quiet_field) return ctx.bool_val(true);
  uint64_t single = 0;
  for (unsigned i = 2; i < 64; ++i) {
    const uint64_t b = uint64_t{1} << i;
    if (b & field_mask) continue;
    if (oracle.reports(cls | *quiet_field | b, level, fwb, rule)) single |= b;
  }
  return table || (d & ctx.bv_val(single, 64)) != ctx.bv_val(0, 64);
}

}  // namespace

std::vector<std::string> oracle_rules_for(uint64_t desc, unsigned level, bool fwb) {
  OracleProbe probe;
  return probe.rules(desc, level, fwb);
}

CrossCheckResult cross_check_oracle_invariants(Solver& solver) {
  CrossCheckResult result;
  z3::context& ctx = solver.ctx();
  Arm64S2Model model(ctx);
  OracleProbe oracle;
  std::mt19937_64 rng(0x6d6d7564696666);  // fixed: the same witnesses every run
  std::map<std::string, bool> reported;   // one disagreement per rule is enough

  auto disagree = [&](const std::string& rule, unsigned level, bool fwb, uint64_t d, bool m) {
    result.answer = Answer::Counterexample;
    if (reported[rule]) return;
    reported[rule] = true;
    result.disagreements.push_back({rule, level, fwb, d, oracle.reports(d, level, fwb, rule), m,
                                    describe_descriptor(d, level, fwb)});
  };

  for (unsigned level = 0; level < 4; ++level) {
    for (bool fwb : {false, true}) {
      for (const char* rule_name : kRules) {
        const std::string rule = rule_name;
        for (unsigned cls = 0; cls < 4; ++cls) {
          Solver::Scope scope(solver);
          z3::expr d = solver.word("descriptor");
          solver.assume((d & ctx.bv_val(3, 64)) == ctx.bv_val(cls, 64));
          const z3::expr m = model_rule(model, ctx, rule, d, level, fwb);
          const z3::expr lifted = lift_oracle(oracle, ctx, rule, level, fwb, cls, d);
          ++result.queries;
          Outcome o = solver.prove(lifted == m);
          if (o.answer == Answer::Unknown) {
            result.answer = Answer::Unknown;
            result.unknown_reason = o.reason;
            return result;
          }
          if (o.answer == Answer::Counterexample) {
            const uint64_t bad = solver.value(d);
            const bool model_says = solver.holds(m);
            if (oracle.reports(bad, level, fwb, rule) != model_says) {
              disagree(rule, level, fwb, bad, model_says);
            } else {
              result.answer = Answer::Unknown;
              result.unknown_reason =
                  "the oracle's " + rule + " check is not a field test or'ed with single bits";
              return result;
            }
            continue;
          }
          // Witnesses on both sides of the rule, with random bits pinned, replayed through the
          // real oracle: they test the lifting's assumption where many bits are set at once.
          for (bool side : {false, true}) {
            for (int k = 0; k < 2; ++k) {
              Solver::Scope inner(solver);
              solver.assume(m == ctx.bool_val(side));
              const uint64_t pinned = rng() & ~uint64_t{3};
              const uint64_t values = rng();
              Outcome w =
                  solver.find((d & ctx.bv_val(pinned, 64)) == ctx.bv_val(values & pinned, 64));
              if (w.answer != Answer::Counterexample) w = solver.find(ctx.bool_val(true));
              if (w.answer != Answer::Counterexample) continue;  // this side is empty
              const uint64_t witness = solver.value(d);
              ++result.replayed;
              if (oracle.reports(witness, level, fwb, rule) != side)
                disagree(rule, level, fwb, witness, side);
            }
          }
        }
      }
    }
  }
  return result;
}

}  // namespace mmudiff::models
