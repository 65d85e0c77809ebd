// The files of a model or adapter folder, on disk or in memory.
//
// Folder importers (ImportHfFolder, ImportPeft) read their files through a
// Folder, so the same parsing code runs on a directory and on bytes already
// in memory (the fuzz targets, a browser's dropped files). Names are plain
// file names inside the folder ("config.json"); Path(name) is the
// "<dir>/<name>" every error message uses, in memory as on disk.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "base/file.h"
#include "base/status.h"

namespace slm {

class Folder {
 public:
  // Files under the directory `dir` (read when asked, never cached).
  static Folder OnDisk(std::string dir) { return Folder(std::move(dir), nullptr); }
  // Files given as bytes, by name; `dir` only names them in messages. The
  // map and the bytes must outlive the Folder and anything mapped from it.
  static Folder InMemory(std::string dir,
                         const std::map<std::string, std::span<const uint8_t>>* files) {
    return Folder(std::move(dir), files);
  }

  const std::string& dir() const { return dir_; }
  bool in_memory() const { return files_ != nullptr; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  bool Exists(const std::string& name) const;
  // The whole file as text; NotFound naming Path(name) if absent.
  StatusOr<std::string> ReadText(const std::string& name) const;
  // The file's bytes (mapped on disk, a view in memory), named Path(name).
  StatusOr<std::unique_ptr<MappedFile>> Map(const std::string& name) const;

 private:
  Folder(std::string dir, const std::map<std::string, std::span<const uint8_t>>* files)
      : dir_(std::move(dir)), files_(files) {}
  std::string dir_;
  const std::map<std::string, std::span<const uint8_t>>* files_;
};

}  // namespace slm
