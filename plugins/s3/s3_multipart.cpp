// plugins/s3/s3_multipart.cpp — multipart upload: Create, parts in parallel, Complete, and
// Abort on every failure path so no half-upload lingers (S3 bills for stored parts).
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "s3_client.hpp"
#include "s3_hash.hpp"
#include "s3_xml.hpp"

namespace weir::s3 {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kMinPartSize = 5 * kMiB;  // S3's minimum for every part but the last
constexpr uint64_t kMaxParts = 10000;        // S3's maximum part number

Status AbortUpload(S3Client& client, const std::string& key, const std::string& upload_id) {
  // Cleanup runs even when the run is cancelled (ignore_cancel), bounded by max_attempts.
  S3Request req{
      "AbortMultipartUpload", "DELETE", key, {{"uploadId", upload_id}}, {}, {}, {404}, false, true};
  return client.Send(req).status();
}

// Aborts the upload and returns `cause`, saying whether the cleanup worked. A cancelled cause
// stays WEIR_CANCELLED either way; a retryable one stays retryable.
Status FailAndAbort(S3Client& client, const std::string& key, const std::string& upload_id,
                    const Status& cause) {
  Status aborted = AbortUpload(client, key, upload_id);
  if (!aborted.ok()) {
    std::string msg =
        cause.message() + "; aborting upload " + upload_id +
        " also failed, so its parts stay until a lifecycle rule removes them: " + aborted.message();
    if (cause.code() == WEIR_CANCELLED) return Status::Cancelled(std::move(msg));
    return Status::Error(std::move(msg), cause.retryable()).WithVendorCode(cause.vendor_code());
  }
  if (cause.code() == WEIR_CANCELLED) return cause;
  return Status::Error(cause.message() + " (the multipart upload was aborted)", cause.retryable())
      .WithVendorCode(cause.vendor_code());
}

// After Complete answered 404 NoSuchUpload (an earlier attempt may have completed it and its
// answer was lost): success if the object now has the ETag S3 gives a multipart upload of
// exactly these parts (MD5 of the concatenated part MD5s, "-N"), or at least the size and
// part count (encrypted objects have other ETags). A failed HEAD is returned with its own
// verdict (a 403 is fatal — the policy lacks s3:GetObject; 5xx beyond the retries is
// retryable), never mistaken for "not there".
Status CompleteIsDone(S3Client& client, const std::string& key, size_t size,
                      const std::vector<std::string>& md5s) {
  const std::string suffix = "-" + std::to_string(md5s.size());
  const std::string what =
      "S3 CompleteMultipartUpload " + client.Target(key) + " answered HTTP 404 NoSuchUpload";
  S3Request head{"HeadObject", "HEAD", key, {}, {}, {}, {404}, false, true};
  auto r = client.Send(head);
  if (!r.ok()) {
    const Status& failed = r.status();
    std::string msg = what +
                      " (an earlier attempt may have completed it), and checking for the "
                      "object failed: " +
                      failed.message();
    if (failed.code() == WEIR_CANCELLED) return Status::Cancelled(std::move(msg));
    return Status::Error(std::move(msg), failed.retryable()).WithVendorCode(failed.vendor_code());
  }
  if (r->status == 200) {
    std::string concat;
    for (const auto& m : md5s) concat += m;
    const std::string expected = "\"" + HexEncode(Md5(concat)) + suffix + "\"";
    const std::string etag = r->Header("etag");
    const bool same_shape =
        etag.size() > suffix.size() + 1 &&
        etag.compare(etag.size() - suffix.size() - 1, suffix.size(), suffix) == 0 &&
        r->Header("content-length") == std::to_string(size);
    if (etag == expected || same_shape) return Status::OK();
  }
  return Status::Error(what + ", and the object is not there as uploaded").WithVendorCode(404);
}

}  // namespace

uint64_t EffectivePartSize(uint64_t configured, uint64_t object_size) {
  uint64_t part = std::max(configured, kMinPartSize);
  if ((object_size + part - 1) / part > kMaxParts) {
    uint64_t needed = (object_size + kMaxParts - 1) / kMaxParts;
    part = (needed + kMiB - 1) / kMiB * kMiB;
  }
  return part;
}

Status PutMultipart(S3Client& client, const std::string& key, std::string_view body,
                    const PutOptions& options) {
  const S3Config& config = client.config();
  const uint64_t part_size = EffectivePartSize(config.part_size, body.size());
  const size_t parts = std::max<size_t>(1, (body.size() + part_size - 1) / part_size);

  S3Request create{
      "CreateMultipartUpload", "POST", key, {{"uploads", ""}}, {}, {}, {}, false, false};
  if (!options.content_type.empty())
    create.headers.emplace_back("content-type", options.content_type);
  if (!options.content_encoding.empty()) {
    create.headers.emplace_back("content-encoding", options.content_encoding);
  }
  WEIR_ASSIGN_OR_RETURN(S3Response created, client.Send(create));
  const std::string upload_id = XmlText(created.body, "UploadId").value_or("");
  if (upload_id.empty()) {
    return Status::Error("S3 CreateMultipartUpload " + client.Target(key) +
                         " answered without an UploadId");
  }

  std::vector<std::string> etags(parts);
  std::vector<std::string> md5s(parts);  // raw digests: Content-MD5 and the expected ETag
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  Status first_error;
  auto worker = [&] {
    while (!failed.load()) {
      size_t i = next.fetch_add(1);
      if (i >= parts) return;
      std::string_view slice = body.substr(i * part_size, part_size);
      md5s[i] = Md5(slice);
      S3Request put{"UploadPart " + std::to_string(i + 1) + "/" + std::to_string(parts),
                    "PUT",
                    key,
                    {{"partNumber", std::to_string(i + 1)}, {"uploadId", upload_id}},
                    {{"content-md5", Base64(md5s[i])}},
                    slice,
                    {},
                    false,
                    false};
      auto r = client.Send(put);
      std::string etag = r.ok() ? r->Header("etag") : "";
      if (!r.ok() || etag.empty()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) {
          first_error = r.ok() ? Status::Error("S3 " + put.op + " " + client.Target(key) +
                                               " answered without an ETag")
                               : r.status();
        }
        failed.store(true);
        return;
      }
      etags[i] = std::move(etag);
    }
  };
  const size_t threads = std::min<size_t>(static_cast<size_t>(config.parallel_parts), parts);
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (!first_error.ok()) return FailAndAbort(client, key, upload_id, first_error);

  std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (size_t i = 0; i < parts; ++i) {
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
           XmlEscape(etags[i]) + "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  S3Request complete{"CompleteMultipartUpload",
                     "POST",
                     key,
                     {{"uploadId", upload_id}},
                     {{"content-type", "application/xml"}},
                     xml,
                     {},
                     true,
                     false};
  if (options.if_none_match) {
    complete.headers.emplace_back("if-none-match", "*");
    complete.accept.push_back(412);
  }
  // 404 NoSuchUpload on a retried Complete means an earlier attempt completed it but its
  // answer was lost; CompleteIsDone checks that the object is ours.
  complete.accept.push_back(404);
  auto done = client.Send(complete);
  if (!done.ok()) return FailAndAbort(client, key, upload_id, done.status());
  if (done->status == 404) {
    if (XmlText(done->body, "Code").value_or("") == "NoSuchUpload") {
      return CompleteIsDone(client, key, body.size(), md5s);
    }
    // Any other 404 (NoSuchBucket, ...) is an ordinary fatal answer.
    return FailAndAbort(
        client, key, upload_id,
        ErrorFromResponse(client.config(), client.EndpointDescription(), complete.op, key,
                          done->status, done->body, done->Header("x-amz-bucket-region")));
  }
  if (done->status == 412) {
    // The object exists already (a replayed batch wrote the same bytes): success, but this
    // upload's parts must go.
    Status aborted = AbortUpload(client, key, upload_id);
    if (!aborted.ok() && client.hooks().log) {
      client.hooks().log(WEIR_LOG_WARN, "S3 " + client.Target(key) +
                                            " exists already; cleaning up the redundant upload "
                                            "failed: " +
                                            aborted.message());
    }
  }
  return Status::OK();
}

}  // namespace weir::s3
