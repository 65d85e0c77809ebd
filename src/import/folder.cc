#include "import/folder.h"

namespace slm {

bool Folder::Exists(const std::string& name) const {
  if (files_) return files_->count(name) != 0;
  return FileExists(Path(name));
}

StatusOr<std::string> Folder::ReadText(const std::string& name) const {
  if (!files_) return ReadFileToString(Path(name));
  auto it = files_->find(name);
  // Same message as MappedFile::Open for a missing file.
  if (it == files_->end()) return NotFound("no such file '" + Path(name) + "'");
  return std::string(reinterpret_cast<const char*>(it->second.data()), it->second.size());
}

StatusOr<std::unique_ptr<MappedFile>> Folder::Map(const std::string& name) const {
  if (!files_) return MappedFile::Open(Path(name));
  auto it = files_->find(name);
  if (it == files_->end()) return NotFound("no such file '" + Path(name) + "'");
  return MappedFile::FromMemory(it->second, Path(name));
}

}  // namespace slm
