// SPDX-License-Identifier: GPL-2.0-only
#include "models/proof_run.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "mmu/format/decode.h"

namespace mmudiff::models {

bool ProofRun::verify(const std::vector<Named>& claims, const z3::expr& descriptor, unsigned level,
                      bool fwb, const std::vector<Named>& inputs) {
  for (const auto& [what, claim] : claims) {
    Outcome o = solver.prove(claim);
    if (o.answer == Answer::Proved) continue;
    answer = o.answer;
    if (o.answer == Answer::Unknown) {
      unknown_reason = fmt::format("{} (level {}, fwb {}): {}", what, level, fwb, o.reason);
      return false;
    }
    Counterexample c;
    c.level = level;
    c.fwb = fwb;
    c.inputs.push_back({"level", level});
    c.inputs.push_back({"fwb", fwb ? 1u : 0u});
    for (const auto& [name, e] : inputs) c.inputs.push_back({name, solver.value(e)});
    c.descriptor = solver.value(descriptor);
    c.decoded = describe_descriptor(c.descriptor, level, fwb);
    c.violated = what;
    counterexample = std::move(c);
    return false;
  }
  return true;
}

const ProofSpec* find_proof(const std::string& name) {
  for (const ProofSpec& p : proof_catalogue())
    if (p.name == name) return &p;
  return nullptr;
}

ProofResult run_proof(const ProofSpec& spec, Solver& solver, Plant plant) {
  ProofResult r;
  r.name = spec.name;
  r.backend = spec.backend;
  r.property = spec.property;
  ProofRun run(solver, plant);
  const auto start = std::chrono::steady_clock::now();
  spec.body(run);
  r.time_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  r.answer = run.answer;
  r.unknown_reason = run.unknown_reason;
  r.counterexample = run.counterexample;
  return r;
}

bool is_x86_proof(const ProofSpec& spec) {
  return spec.name.find(".ept.") != std::string::npos;
}

std::vector<const ProofSpec*> proofs_for_format(const std::string& format) {
  const bool x86 = format.rfind("x86-ept", 0) == 0;
  std::vector<const ProofSpec*> out;
  for (const ProofSpec& p : proof_catalogue())
    if (is_x86_proof(p) == x86) out.push_back(&p);
  return out;
}

std::vector<ProofResult> run_proofs(const std::vector<const ProofSpec*>& specs, unsigned timeout_ms,
                                    Plant plant, unsigned threads,
                                    const std::function<void(const ProofResult&)>& on_result) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, std::max<size_t>(specs.size(), 1));
  std::vector<std::optional<ProofResult>> done(specs.size());
  std::mutex mutex;
  std::condition_variable finished;
  size_t next = 0;
  std::exception_ptr error;
  auto work = [&] {
    try {
      Solver solver(timeout_ms);
      for (;;) {
        size_t i;
        {
          std::lock_guard lock(mutex);
          if (next == specs.size() || error) return;
          i = next++;
        }
        ProofResult r = run_proof(*specs[i], solver, plant);
        std::lock_guard lock(mutex);
        done[i] = std::move(r);
        finished.notify_one();
      }
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!error) error = std::current_exception();
      finished.notify_one();
    }
  };
  std::vector<std::jthread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  std::vector<ProofResult> out;
  out.reserve(specs.size());
  while (out.size() < specs.size()) {
    std::unique_lock lock(mutex);
    finished.wait(lock, [&] { return done[out.size()].has_value() || error; });
    if (error) break;
    out.push_back(std::move(*done[out.size()]));
    lock.unlock();
    if (on_result) on_result(out.back());
  }
  pool.clear();
  if (error) std::rethrow_exception(error);
  return out;
}

bool counterexample_input_is_number(const std::string& name) {
  for (const char* n : {"level", "fwb", "maxphyaddr", "levels", "ad", "execonly", "huge_page_level",
                        "index", "ipat", "host_writable", "prefetch"})
    if (name == n) return true;
  return false;
}

std::string format_counterexample(const Counterexample& c) {
  std::string inputs;
  for (const auto& [name, value] : c.inputs) {
    if (!inputs.empty()) inputs += ' ';
    inputs += counterexample_input_is_number(name) ? fmt::format("{}={}", name, value)
                                                   : fmt::format("{}={:#x}", name, value);
  }
  return fmt::format("  counterexample: {}\n  violates: {}\n  descriptor: {}\n", inputs, c.violated,
                     c.decoded);
}

}  // namespace mmudiff::models
