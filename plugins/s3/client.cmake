# plugins/s3/client.cmake — weir_s3_client (weir::s3_client): the S3 object-store client
# (SigV4 signer, libcurl transport, retries, multipart, credentials, MakeS3ObjectStore).
# Included by plugins/s3/CMakeLists.txt; STATIC + PIC so the s3 plugin (a MODULE) links it.
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)  # libcrypto: SHA-256, HMAC, MD5

add_library(weir_s3_client STATIC
  ${CMAKE_CURRENT_LIST_DIR}/s3_hash.cpp
  ${CMAKE_CURRENT_LIST_DIR}/s3_sigv4.cpp
  ${CMAKE_CURRENT_LIST_DIR}/s3_xml.cpp
  ${CMAKE_CURRENT_LIST_DIR}/s3_http.cpp
  ${CMAKE_CURRENT_LIST_DIR}/s3_retry.cpp
  ${CMAKE_CURRENT_LIST_DIR}/s3_errors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/s3_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/s3_multipart.cpp
  ${CMAKE_CURRENT_LIST_DIR}/s3_credentials.cpp
  ${CMAKE_CURRENT_LIST_DIR}/s3_object_store.cpp)
add_library(weir::s3_client ALIAS weir_s3_client)
target_include_directories(weir_s3_client PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(weir_s3_client
  PUBLIC weir::sdk
  PRIVATE CURL::libcurl OpenSSL::Crypto Threads::Threads)
set_target_properties(weir_s3_client PROPERTIES POSITION_INDEPENDENT_CODE ON)
weir_set_warnings(weir_s3_client)
