// SPDX-License-Identifier: GPL-2.0-only
#include "models/arm64_descriptor_proofs.h"

namespace mmudiff::models {

std::vector<ProofSpec> descriptor_proofs() {
  std::vector<ProofSpec> out;
  proofs::add_backend_proofs<WalkerDescriptors>(out);
  proofs::add_backend_proofs<LegacyDescriptors>(out);
  return out;
}

}  // namespace mmudiff::models
