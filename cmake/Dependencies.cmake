# All third-party code comes from the system (Debian 12 packages); nothing is
# downloaded or vendored. bin/grader names the packages when one is missing.
find_package(Threads REQUIRED)
find_package(Boost 1.81 EXACT REQUIRED)   # libboost1.81-dev (headers: Asio, Beast, URL, JSON)
find_package(OpenSSL REQUIRED)            # libssl-dev
find_package(Catch2 2.13 REQUIRED)        # catch2
find_package(fmt REQUIRED)                # libfmt-dev
find_package(nlohmann_json 3 REQUIRED)    # nlohmann-json3-dev
find_package(CLI11 REQUIRED)              # libcli11-dev
find_package(md4c REQUIRED)               # libmd4c-dev
