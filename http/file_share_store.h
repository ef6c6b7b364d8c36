// Where the HTTP process keeps shared files (XEP-0363): one directory (DATA_PATH/http/file_share,
// "/file_share" inside the process's chroot), flat, named by slot id only (22 base64url
// characters, never the client's file name):
//   ID       the bytes, exactly the slot's size
//   ID.meta  the file's expiry (unix seconds, 0 never) and the slot's fields
//            (common/upload_slot.h), so that GET answers name, type and size from it
// An upload is written to ID.part (O_EXCL), fdatasync'd, its metadata written and renamed into
// place, then the data renamed: a file is served only once both are whole, and a failed
// upload leaves nothing (the .part is unlinked; one left by a crash is swept).
//
// Trust: the directory is this process's own; what it reads back is still parsed strictly
// (a damaged .meta makes its file unknown, not a crash). Slot ids and names reaching here
// were checked (common/upload_slot.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"
#include "common/upload_slot.h"

struct evbuffer;

namespace xmppd::http {

struct StoredFile {
  UploadSlot slot;           // as granted: name, type, size, uploader
  std::int64_t expires = 0;  // unix seconds; 0 never
  UniqueFd fd;               // the bytes, opened for reading
};

class FileShareStore {
 public:
  explicit FileShareStore(std::string dir) : dir_(std::move(dir)) {}
  // Makes `dir` (0700) if missing and opens it, relative to the working directory then (the
  // chroot's root); false with `error` when it cannot.
  bool ready(std::string& error);

  // Whether a file (or its metadata) for `id` is stored already.
  bool exists(std::string_view id) const;
  // Stores `body` (exactly slot.size bytes, the caller checked) as `slot`'s file, expiring at
  // `expires` (0 never). False with `error` when it cannot; nothing is left behind then.
  bool put(const UploadSlot& slot, std::int64_t expires, evbuffer* body, std::string& error);
  // The file of `id`, unless it is missing, unreadable or expired at `now` (then removed).
  std::optional<StoredFile> open(std::string_view id, std::int64_t now);
  // Removes files expired at `now` and uploads left half-written; how many files went. At most
  // `max_entries` directory entries are looked at per call, so that a large store does not hold
  // the event loop: while sweeping(), the next call goes on where this one stopped.
  std::size_t sweep(std::int64_t now, std::size_t max_entries = SIZE_MAX);
  bool sweeping() const { return !sweep_names_.empty(); }
  void remove(std::string_view id);
  // Bytes stored (files only), as of the last sweep and the puts since.
  std::uint64_t bytes() const { return bytes_; }
  std::size_t files() const { return files_; }
  // Uploads stored since the process started, and their bytes (for /metrics).
  std::uint64_t uploads() const { return uploads_; }
  std::uint64_t uploaded_bytes() const { return uploaded_bytes_; }

 private:
  std::optional<std::pair<UploadSlot, std::int64_t>> read_meta(std::string_view id) const;
  std::string path(std::string_view id, std::string_view suffix = {}) const;

  std::string dir_;
  UniqueFd dir_fd_;
  std::uint64_t bytes_ = 0;
  std::size_t files_ = 0;
  // A sweep under way: the names it listed, the next to look at, what it counted so far.
  std::vector<std::string> sweep_names_;
  std::size_t sweep_next_ = 0;
  std::size_t sweep_files_ = 0;
  std::uint64_t sweep_bytes_ = 0;
  std::uint64_t uploads_ = 0, uploaded_bytes_ = 0;
};

}  // namespace xmppd::http
