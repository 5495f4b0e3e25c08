// plugins/s3/s3_http.cpp — the libcurl transport: an easy-handle pool, request setup,
// response capture, and the classification of transport failures as retryable or not.
#include "s3_http.hpp"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace weir::s3 {

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

namespace {

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

void GlobalInitOnce() {
  // curl_global_init is not thread-safe in curl 7.88; call_once makes it so for us. Never
  // cleaned up: other code in the process (the host, other plugins) may use libcurl too.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Connection-level failures where repeating the request may well succeed.
bool IsRetryableCurlCode(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

struct UploadState {
  std::string_view body;
  size_t offset = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* st = static_cast<UploadState*>(userdata);
  size_t n = std::min(size * nitems, st->body.size() - st->offset);
  std::memcpy(buffer, st->body.data() + st->offset, n);
  st->offset += n;
  return n;
}

// Lets curl rewind the body when it must resend it (e.g. after a 307 or on a reused
// connection that turned out dead), instead of failing with CURLE_SEND_FAIL_REWIND.
int SeekBody(void* userdata, curl_off_t offset, int origin) {
  auto* st = static_cast<UploadState*>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > st->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  st->offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  static_cast<std::string*>(userdata)->append(ptr, size * nmemb);
  return size * nmemb;
}

size_t WriteHeader(char* ptr, size_t size, size_t nitems, void* userdata) {
  auto* response = static_cast<HttpResponse*>(userdata);
  std::string_view line(ptr, size * nitems);
  if (line.rfind("HTTP/", 0) == 0) {
    response->headers.clear();  // a new response (after 100 Continue or a redirect)
    return size * nitems;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    response->headers.emplace_back(std::move(name), std::string(value));
  }
  return size * nitems;
}

int Progress(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* cancelled = static_cast<const std::function<bool()>*>(clientp);
  return (*cancelled && (*cancelled)()) ? 1 : 0;
}

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(TransportOptions options) : options_(std::move(options)) {
    if (options_.ca_bundle.empty()) {
      if (const char* env = std::getenv("AWS_CA_BUNDLE"); env != nullptr) {
        options_.ca_bundle = env;
      }
    }
  }

  HttpResponse Send(const HttpRequest& request) override {
    EasyHandle handle = Acquire();
    HttpResponse response;
    if (!handle) {
      response.transport_error = "could not create a libcurl handle";
      return response;
    }
    Perform(handle.get(), request, &response);
    Release(std::move(handle));
    return response;
  }

 private:
  EasyHandle Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        EasyHandle h = std::move(idle_.back());
        idle_.pop_back();
        return h;
      }
    }
    return EasyHandle(curl_easy_init());
  }

  void Release(EasyHandle handle) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(handle));
  }

  void Perform(CURL* h, const HttpRequest& request, HttpResponse* response) const {
    // Reset clears options but keeps the handle's connection cache: that is the reuse.
    curl_easy_reset(h);
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    // S3 keys may contain "." and ".." segments; the signature covers the path as given.
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout_ms));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    const bool https = request.url.rfind("https://", 0) == 0;
    if (https) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
      if (!options_.ca_bundle.empty()) {
        curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_bundle.c_str());
      }
    }

    UploadState upload{request.body, 0};
    if (request.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (request.method == "PUT" || request.method == "POST") {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, &ReadBody);
      curl_easy_setopt(h, CURLOPT_READDATA, &upload);
      curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &SeekBody);
      curl_easy_setopt(h, CURLOPT_SEEKDATA, &upload);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      if (request.method == "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "POST");
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }

    Slist headers;
    auto add = [&headers](const std::string& line) {
      curl_slist* next = curl_slist_append(headers.get(), line.c_str());
      if (next != nullptr) {
        (void)headers.release();
        headers.reset(next);
      }
    };
    for (const auto& [name, value] : request.headers) add(name + ": " + value);
    // No "Expect: 100-continue" round trip (S3 answers errors early anyway) and no
    // curl-chosen Content-Type on POST bodies.
    add("Expect:");
    bool has_content_type = false;
    for (const auto& [name, value] : request.headers) {
      if (name.size() == 12 && strncasecmp(name.c_str(), "content-type", 12) == 0) {
        has_content_type = true;
      }
    }
    if (!has_content_type) add("Content-Type:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &response->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &WriteHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, response);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &Progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &request.cancelled);

    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response->status);
    } else {
      response->status = 0;
      response->cancelled = rc == CURLE_ABORTED_BY_CALLBACK;
      response->transport_retryable = IsRetryableCurlCode(rc);
      response->transport_error = curl_easy_strerror(rc);
      if (errbuf[0] != '\0') response->transport_error += std::string(": ") + errbuf;
    }
    // The handle keeps pointers to these locals; drop them before they go out of scope.
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  }

  TransportOptions options_;
  std::mutex mu_;
  std::vector<EasyHandle> idle_;
};

}  // namespace

std::unique_ptr<HttpTransport> MakeCurlTransport(const TransportOptions& options) {
  GlobalInitOnce();
  return std::make_unique<CurlTransport>(options);
}

}  // namespace weir::s3
