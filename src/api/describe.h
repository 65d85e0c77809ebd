// The package description behind slm_package_describe: one JSON object (cold
// path; the hot path never marshals JSON).
#pragma once

#include <string>

#include "package/package.h"

namespace slm::api {

// {file, file_size, format_version, package_digest, tokenizer_digest, config,
//  tokenizer, provenance, metadata, tensors: [{name, dtype, shape, bytes, sha256}]}
std::string DescribePackage(const Package& p);

}  // namespace slm::api
