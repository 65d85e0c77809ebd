#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#if !defined(__wasi__)
#include <sys/mman.h>
#endif

namespace slm {
namespace {
std::string Errno(const std::string& what, const std::string& path) {
  return what + " '" + path + "': " + std::strerror(errno);
}
}  // namespace

StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("no such file '" + path + "'");
    return IoError(Errno("cannot open", path));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return IoError(Errno("cannot stat", path));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("'" + path + "' is a directory, expected a file");
  }
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ == 0) {
    ::close(fd);
    static const uint8_t kEmpty[1] = {0};
    f->data_ = kEmpty;
    return f;
  }
#if !defined(__wasi__)
  void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return IoError(Errno("cannot mmap", path));
  f->data_ = static_cast<const uint8_t*>(p);
  f->mapped_ = true;
#else
  // 64-byte alignment matches the package's tensor alignment.
  size_t cap = (f->size_ + 63) / 64 * 64;
  void* buf = std::aligned_alloc(64, cap);
  if (buf == nullptr) {
    ::close(fd);
    return ResourceExhausted("cannot allocate " + std::to_string(f->size_) + " bytes for '" +
                             path + "'");
  }
  size_t got = 0;
  while (got < f->size_) {
    ssize_t n = ::read(fd, static_cast<uint8_t*>(buf) + got, f->size_ - got);
    if (n <= 0) {
      std::free(buf);
      ::close(fd);
      return IoError(Errno("cannot read", path));
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  f->owned_ = buf;
  f->data_ = static_cast<const uint8_t*>(buf);
#endif
  return f;
}

std::unique_ptr<MappedFile> MappedFile::FromMemory(std::span<const uint8_t> bytes,
                                                   std::string name) {
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->path_ = std::move(name);
  f->data_ = bytes.data();
  f->size_ = bytes.size();
  return f;
}

MappedFile::~MappedFile() {
#if !defined(__wasi__)
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
#endif
  std::free(owned_);
}

StatusOr<std::string> ReadFileToString(const std::string& path) {
  SLM_ASSIGN_OR_RETURN(auto f, MappedFile::Open(path));
  auto b = f->bytes();
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> bytes) {
  std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return IoError(Errno("cannot create", tmp));
  size_t n = bytes.empty() ? 0 : std::fwrite(bytes.data(), 1, bytes.size(), f);
  bool ok = n == bytes.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return IoError(Errno("cannot write", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return IoError(Errno("cannot rename to", path));
  }
  return Status::Ok();
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace slm
