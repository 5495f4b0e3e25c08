// plugins/s3/s3_object_store.cpp — the S3 ObjectStore: single PUT below the multipart
// threshold, multipart at or above it, everything else straight through S3Client.
#include <memory>

#include "object_store.hpp"
#include "s3_client.hpp"

namespace weir::s3 {
namespace {

class S3ObjectStore final : public ObjectStore {
 public:
  explicit S3ObjectStore(std::unique_ptr<S3Client> client) : client_(std::move(client)) {}

  Status Put(const std::string& key, std::string_view body, const PutOptions& options) override {
    if (body.size() >= client_->config().multipart_threshold) {
      return PutMultipart(*client_, key, body, options);
    }
    return client_->PutObject(key, body, options);
  }
  Status Delete(const std::string& key) override { return client_->DeleteObject(key); }
  Result<std::optional<std::string>> Get(const std::string& key) override {
    return client_->GetObject(key);
  }
  Result<std::vector<std::string>> List(const std::string& prefix) override {
    return client_->ListObjects(prefix);
  }
  std::string Describe() const override { return "s3://" + client_->config().bucket; }

 private:
  std::unique_ptr<S3Client> client_;
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> MakeS3ObjectStore(const S3Config& config, Hooks hooks) {
  WEIR_ASSIGN_OR_RETURN(std::unique_ptr<S3Client> client, S3Client::Make(config, std::move(hooks)));
  return std::unique_ptr<ObjectStore>(new S3ObjectStore(std::move(client)));
}

}  // namespace weir::s3
