// plugins/s3/s3_errors.cpp — turns a fatal S3 answer into a message a person can act on.
// Names the bucket, the key and (for 403) the access key id — never the secret or the
// session token — plus S3's own Code and Message and what to check next.
#include <string>

#include "s3_client.hpp"
#include "s3_xml.hpp"

namespace weir::s3 {

Status ErrorFromResponse(const S3Config& config, const std::string& endpoint_description,
                         const std::string& op, const std::string& key, long status,
                         std::string_view body, const std::string& bucket_region_header) {
  const std::string code = XmlText(body, "Code").value_or("");
  const std::string s3_message = XmlText(body, "Message").value_or("");
  const std::string target = "s3://" + config.bucket + (key.empty() ? "" : "/" + key);
  std::string detail = "HTTP " + std::to_string(status);
  if (!code.empty()) detail += " " + code;
  if (!s3_message.empty()) detail += ": " + s3_message;

  std::string msg;
  if (status == 403) {
    msg = "S3 " + op + " " + target + " was denied (" + detail + ") for bucket '" + config.bucket +
          "' with access key id '" + config.credentials.access_key_id + "'";
    if (code == "SignatureDoesNotMatch") {
      msg += ": the secret access key does not belong to this access key id (or the region '" +
             config.region + "' is wrong)";
    } else if (code == "InvalidAccessKeyId") {
      msg += ": the store does not know this access key id";
    } else if (code == "ExpiredToken" || code == "InvalidToken" || code == "TokenRefreshRequired") {
      msg += ": the session token is expired or invalid; refresh the credentials";
    } else if (code == "RequestTimeTooSkewed") {
      msg += ": this machine's clock is more than 15 minutes off; fix the clock";
    } else {
      msg += ": check that the key's policy allows " + op + " on this bucket";
    }
  } else if (status == 404 && code == "NoSuchBucket") {
    msg = "S3 bucket '" + config.bucket + "' does not exist at " + endpoint_description + " (" +
          op + " got " + detail + "); create the bucket or correct the url";
  } else if (status == 301 || status == 307 || code == "PermanentRedirect" ||
             code == "AuthorizationHeaderMalformed" ||
             code == "IllegalLocationConstraintException") {
    std::string region = bucket_region_header;
    if (region.empty()) region = XmlText(body, "Region").value_or("");
    msg = "S3 " + op + " " + target + " failed (" + detail + "): bucket '" + config.bucket +
          "' is not reachable with region '" + config.region + "' at " + endpoint_description;
    if (!region.empty()) msg += "; it lives in region '" + region + "': set region to that";
    if (auto ep = XmlText(body, "Endpoint"); ep && !ep->empty()) {
      msg += " (S3 suggests endpoint " + *ep + ")";
    }
  } else {
    msg = "S3 " + op + " " + target + " failed: " + detail;
    if (status == 400 && code == "InvalidDigest") msg += " (Content-MD5 mismatch)";
  }
  return Status::Error(std::move(msg)).WithVendorCode(static_cast<int32_t>(status));
}

}  // namespace weir::s3
