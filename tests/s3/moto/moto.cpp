// tests/s3/moto/moto.cpp — starting moto_server with signature verification and an IAM user.
#include "moto.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "s3_client.hpp"
#include "s3_http.hpp"
#include "s3_sigv4.hpp"
#include "s3_xml.hpp"

namespace weir::s3test {
namespace {

// The number of unauthenticated requests moto serves: exactly the three IAM calls below.
constexpr int kNoAuthRequests = 3;

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

// One unauthenticated IAM call. moto routes a request to a service by the credential scope in
// its Authorization header, so the header names "iam"; its signature is not checked (yet).
weir::Result<std::string> IamCall(weir::s3::HttpTransport& http, int port,
                                  const weir::s3::NameValues& form) {
  std::string body;
  for (const auto& [k, v] : form) {
    body += (body.empty() ? "" : "&") + weir::s3::UriEncode(k, true) + "=" +
            weir::s3::UriEncode(v, true);
  }
  weir::s3::HttpRequest req;
  req.method = "POST";
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  req.headers = {{"Host", "127.0.0.1:" + std::to_string(port)},
                 {"Content-Type", "application/x-www-form-urlencoded"},
                 {"Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/"
                  "aws4_request, SignedHeaders=host, Signature=0"}};
  req.body = body;
  weir::s3::HttpResponse r = http.Send(req);
  if (r.status != 200) {
    return weir::Status::Error("moto IAM " + form.front().second + ": HTTP " +
                               std::to_string(r.status) + " " + r.transport_error + " " + r.body);
  }
  return r.body;
}

}  // namespace

std::unique_ptr<MotoServer> MotoServer::Start(std::string* missing, std::string* error) {
  auto exe = FindOnPath("moto_server");
  if (!exe) {
    *missing = "moto_server is not on PATH (pip install 'moto[server]')";
    return nullptr;
  }
  std::unique_ptr<MotoServer> server(new MotoServer());
  char dir_tmpl[] = "/tmp/weir-moto-XXXXXX";
  if (mkdtemp(dir_tmpl) == nullptr) {  // removed again by ~MotoServer
    *error = "mkdtemp failed";
    return nullptr;
  }
  server->log_path_ = std::string(dir_tmpl) + "/moto.log";

  // A port found free can be taken before moto binds it; try a few.
  for (int attempt = 0; attempt < 3 && !server->process_; ++attempt) {
    int port = FreeLoopbackPort();
    auto process = std::make_unique<Subprocess>(
        std::vector<std::string>{*exe, "-H", "127.0.0.1", "-p", std::to_string(port)},
        EnvVars{{"INITIAL_NO_AUTH_ACTION_COUNT", std::to_string(kNoAuthRequests)}},
        server->log_path_);
    if (process->pid() <= 0) {
      *error = "could not spawn " + *exe;
      return nullptr;
    }
    // Bounded poll: moto (Python) takes 1-3 s to import and bind on this machine.
    for (int i = 0; i < 600; ++i) {
      if (!process->Running()) break;
      if (PortAccepts(port)) {
        server->port_ = port;
        server->process_ = std::move(process);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (!server->process_) {
    *error = "moto_server did not start listening; its log:\n" + Tail(server->log_path_);
    return nullptr;
  }

  auto http = weir::s3::MakeCurlTransport({});
  const int port = server->port_;
  auto user =
      IamCall(*http, port,
              {{"Action", "CreateUser"}, {"UserName", "weir-test"}, {"Version", "2010-05-08"}});
  auto key = user.ok() ? IamCall(*http, port,
                                 {{"Action", "CreateAccessKey"},
                                  {"UserName", "weir-test"},
                                  {"Version", "2010-05-08"}})
                       : user;
  auto policy =
      key.ok()
          ? IamCall(*http, port,
                    {{"Action", "PutUserPolicy"},
                     {"UserName", "weir-test"},
                     {"PolicyName", "allow-all"},
                     {"PolicyDocument", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                                        R"("Action":"*","Resource":"*"}]})"},
                     {"Version", "2010-05-08"}})
          : key;
  if (!policy.ok()) {
    *error = policy.status().message() + "\nmoto log:\n" + Tail(server->log_path_);
    return nullptr;
  }
  server->credentials_.access_key_id = weir::s3::XmlText(*key, "AccessKeyId").value_or("");
  server->credentials_.secret_access_key = weir::s3::XmlText(*key, "SecretAccessKey").value_or("");
  if (server->credentials_.access_key_id.empty() ||
      server->credentials_.secret_access_key.empty()) {
    *error = "moto CreateAccessKey answered without keys";
    return nullptr;
  }
  return server;
}

MotoServer::~MotoServer() {
  if (process_) process_->Stop();
  if (!log_path_.empty()) {
    std::remove(log_path_.c_str());
    rmdir(log_path_.substr(0, log_path_.rfind('/')).c_str());
  }
}

std::string MotoServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string MotoServer::virtual_endpoint() const {
  return "http://localhost:" + std::to_string(port_);
}

weir::s3::S3Config MotoServer::Config(const std::string& bucket) const {
  weir::s3::S3Config c;
  c.bucket = bucket;
  c.endpoint = endpoint();
  c.region = "us-east-1";
  c.path_style = true;
  c.credentials = credentials_;
  c.retry.base_backoff_ms = 5;  // tests inject faults; keep the waits short
  c.retry.max_backoff_ms = 50;
  c.connect_timeout_ms = 5000;
  c.request_timeout_ms = 60000;
  return c;
}

weir::Status MotoServer::CreateBucket(const std::string& bucket) const {
  WEIR_ASSIGN_OR_RETURN(auto client, weir::s3::S3Client::Make(Config(bucket), {}));
  return client->CreateBucket();
}

weir::Status MotoServer::SetSignatureVerification(bool on) const {
  auto http = weir::s3::MakeCurlTransport({});
  weir::s3::HttpRequest req;
  req.method = "POST";
  req.url = endpoint() + "/moto-api/reset-auth";
  req.headers = {{"Host", "127.0.0.1:" + std::to_string(port_)}};
  // The number of requests served unauthenticated from now on.
  const std::string body = on ? "0" : "inf";
  req.body = body;
  weir::s3::HttpResponse r = http->Send(req);
  if (r.status != 200) {
    return weir::Status::Error("moto reset-auth: HTTP " + std::to_string(r.status) + " " +
                               r.transport_error + " " + r.body);
  }
  return weir::Status::OK();
}

void MotoTest::SetUp() {
  std::string missing, error;
  moto_ = MotoServer::Start(&missing, &error);
  if (!missing.empty()) WEIR_S3TEST_MISSING(missing);
  ASSERT_TRUE(moto_) << error;
}

std::string MotoTest::NewBucket() {
  std::string name =
      "weir-test-" + std::to_string(getpid()) + "-" + std::to_string(++bucket_counter_);
  weir::Status s = moto_->CreateBucket(name);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return name;
}

}  // namespace weir::s3test
