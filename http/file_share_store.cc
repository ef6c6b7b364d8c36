// The shared files' directory (file_share_store.h): write, fdatasync, rename; read back
// strictly; sweep what expired, a bounded number of entries at a time. Every access is relative to the directory's descriptor.
#include "http/file_share_store.h"

#include <dirent.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

namespace xmppd::http {
namespace {

constexpr std::string_view kMeta = ".meta";
constexpr std::string_view kPart = ".part";
constexpr std::size_t kMaxMetaBytes = 8192;

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

bool FileShareStore::ready(std::string& error) {
  ::mkdir(dir_.c_str(), 0700);  // EEXIST is fine; the open says whether it can be used
  dir_fd_.reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd_) error = errno_text(dir_.c_str());
  return static_cast<bool>(dir_fd_);
}

std::string FileShareStore::path(std::string_view id, std::string_view suffix) const {
  return std::string(id) + std::string(suffix);
}

bool FileShareStore::exists(std::string_view id) const {
  struct stat st {};
  return ::fstatat(dir_fd_.get(), path(id).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 ||
         ::fstatat(dir_fd_.get(), path(id, kMeta).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

bool FileShareStore::put(const UploadSlot& slot, std::int64_t expires, evbuffer* body, std::string& error) {
  if (!valid_upload_slot_id(slot.id) || exists(slot.id)) {
    error = "already stored";
    return false;
  }
  const std::string part = path(slot.id, kPart), meta_part = path(slot.id, ".meta.part");
  UniqueFd data(::openat(dir_fd_.get(), part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!data) {
    error = errno_text("cannot create the file");
    return false;
  }
  auto fail = [&](const char* what) {
    error = errno_text(what);
    ::unlinkat(dir_fd_.get(), part.c_str(), 0);
    ::unlinkat(dir_fd_.get(), meta_part.c_str(), 0);
    return false;
  };
  while (evbuffer_get_length(body) > 0)
    if (evbuffer_write(body, data.get()) < 0 && errno != EINTR) return fail("cannot write the file");
  // fdatasync: the size is data here, and the mtime is not worth a second journal write.
  if (::fdatasync(data.get()) != 0) return fail("cannot sync the file");
  UniqueFd meta(::openat(dir_fd_.get(), meta_part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!meta || !write_all(meta.get(), std::to_string(expires) + "\n" + upload_slot_fields(slot)) ||
      ::fdatasync(meta.get()) != 0)
    return fail("cannot write the metadata");
  if (::renameat(dir_fd_.get(), meta_part.c_str(), dir_fd_.get(), path(slot.id, kMeta).c_str()) != 0)
    return fail("cannot rename the metadata");
  if (::renameat(dir_fd_.get(), part.c_str(), dir_fd_.get(), path(slot.id).c_str()) != 0) {
    ::unlinkat(dir_fd_.get(), path(slot.id, kMeta).c_str(), 0);
    return fail("cannot rename the file");
  }
  ::fsync(dir_fd_.get());  // once, for both renames
  bytes_ += slot.size;
  ++files_;
  if (sweeping()) {  // not in the names being swept: counted when the sweep ends
    sweep_bytes_ += slot.size;
    ++sweep_files_;
  }
  uploaded_bytes_ += slot.size;
  ++uploads_;
  return true;
}

std::optional<std::pair<UploadSlot, std::int64_t>> FileShareStore::read_meta(std::string_view id) const {
  UniqueFd fd(::openat(dir_fd_.get(), path(id, kMeta).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return std::nullopt;
  std::string text(kMaxMetaBytes + 1, '\0');
  ssize_t n = ::read(fd.get(), text.data(), text.size());
  if (n <= 0 || static_cast<std::size_t>(n) > kMaxMetaBytes) return std::nullopt;
  text.resize(static_cast<std::size_t>(n));
  const std::size_t nl = text.find('\n');
  if (nl == std::string::npos || nl == 0 || nl > 19) return std::nullopt;
  std::int64_t expires = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + nl, expires);
  if (ec != std::errc() || end != text.data() + nl || expires < 0) return std::nullopt;
  auto slot = parse_upload_slot_fields(std::string_view(text).substr(nl + 1));
  if (!slot || slot->id != id) return std::nullopt;
  return std::make_pair(std::move(*slot), expires);
}

std::optional<StoredFile> FileShareStore::open(std::string_view id, std::int64_t now) {
  if (!valid_upload_slot_id(id)) return std::nullopt;
  auto meta = read_meta(id);
  if (!meta) return std::nullopt;
  if (meta->second != 0 && meta->second <= now) {
    remove(id);
    return std::nullopt;
  }
  UniqueFd fd(::openat(dir_fd_.get(), path(id).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != meta->first.size)
    return std::nullopt;
  return StoredFile{std::move(meta->first), meta->second, std::move(fd)};
}

void FileShareStore::remove(std::string_view id) {
  struct stat st {};
  if (::fstatat(dir_fd_.get(), path(id).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    bytes_ -= std::min<std::uint64_t>(bytes_, static_cast<std::uint64_t>(st.st_size));
    files_ -= files_ > 0 ? 1 : 0;
  }
  ::unlinkat(dir_fd_.get(), path(id).c_str(), 0);
  ::unlinkat(dir_fd_.get(), path(id, kMeta).c_str(), 0);
}

std::size_t FileShareStore::sweep(std::int64_t now, std::size_t max_entries) {
  if (!sweeping()) {
    // A second descriptor of the directory for the DIR stream (openat: dup is not on the sandbox's list).
    UniqueFd copy(::openat(dir_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!copy) return 0;
    DIR* dir = ::fdopendir(copy.get());
    if (dir == nullptr) return 0;
    (void)copy.release();  // the DIR owns it now
    sweep_names_.clear();
    while (const dirent* entry = ::readdir(dir))
      if (std::string_view n = entry->d_name; n != "." && n != "..") sweep_names_.emplace_back(n);
    ::closedir(dir);
    sweep_next_ = 0;
    sweep_files_ = 0;
    sweep_bytes_ = 0;
    if (sweep_names_.empty()) {
      files_ = 0;
      bytes_ = 0;
      return 0;
    }
  }

  std::size_t removed = 0;
  for (std::size_t done = 0; done < max_entries && sweep_next_ < sweep_names_.size(); ++done) {
    const std::string& name = sweep_names_[sweep_next_++];
    std::string_view n = name;
    if (n.ends_with(kPart)) {  // an upload cut short by a crash: no PUT is ever under way here
      ::unlinkat(dir_fd_.get(), name.c_str(), 0);
      continue;
    }
    const bool is_meta = n.ends_with(kMeta);
    const std::string_view id = is_meta ? n.substr(0, n.size() - kMeta.size()) : n;
    auto meta = read_meta(id);
    struct stat st {};
    const bool has_data = ::fstatat(dir_fd_.get(), path(id).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (!meta || !has_data || (meta->second != 0 && meta->second <= now)) {
      // Expired, or half of a pair (a crash between the renames), or not ours: gone.
      if (!is_meta) removed += has_data ? 1 : 0;
      ::unlinkat(dir_fd_.get(), name.c_str(), 0);
      continue;
    }
    if (!is_meta) {
      ++sweep_files_;
      sweep_bytes_ += static_cast<std::uint64_t>(st.st_size);
    }
  }
  if (sweep_next_ == sweep_names_.size()) {
    files_ = sweep_files_;
    bytes_ = sweep_bytes_;
    sweep_names_.clear();
    sweep_next_ = 0;
  }
  return removed;
}

}  // namespace xmppd::http
