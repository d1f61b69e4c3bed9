# Test registration. Layout:
#   tests/unit/<module>/test_*.c   one cmocka program each, label "unit" (no server)
#   tests/integration/*.sh         label "integration"; servers from scripts/testdb.sh via a CTest fixture
#   tests/fuzz/fuzz_*.c            libFuzzer entry points; replayed over tests/fuzz/corpus/<name>/ (label "fuzz")
#   tests/lint/test_layout.sh      the source layout rules (label "unit")
set(TIDM_TEST_ENV
    "TIDM_FIXTURES=${TIDM_FIXTURES}"
    "TIDM_BIN=$<TARGET_FILE:tidm>"
    "TIDM_SRC=${CMAKE_SOURCE_DIR}"
    "TIDM_BUILD=${CMAKE_BINARY_DIR}"
    "TIDM_TESTDB_DIR=${CMAKE_BINARY_DIR}/testdb")

# tidm_fake_primary: a scripted MySQL 8.0.36 primary serving a fixture binlog (test-only;
# tests/harness/fake_primary.c, used by tests/integration/test_{repl,sync}_fake_*.sh).
# --answers FILE scripts any other query (tests/harness/fake_answers.c).
add_executable(tidm_fake_primary ${CMAKE_SOURCE_DIR}/tests/harness/fake_primary.c
               ${CMAKE_SOURCE_DIR}/tests/harness/fake_answers.c)
target_link_libraries(tidm_fake_primary PRIVATE tidm_pure)
list(APPEND TIDM_TEST_ENV "TIDM_FAKE_PRIMARY=$<TARGET_FILE:tidm_fake_primary>")

# tidm_service_drive: the job manager (src/service/) driven in-process, a command per line
# (tests/harness/service_drive.c, used by tests/integration/test_service_job.sh).
add_executable(tidm_service_drive ${CMAKE_SOURCE_DIR}/tests/harness/service_drive.c)
target_link_libraries(tidm_service_drive PRIVATE tidm_core)
list(APPEND TIDM_TEST_ENV "TIDM_SERVICE_DRIVE=$<TARGET_FILE:tidm_service_drive>")

if(CMOCKA_FOUND)
  file(GLOB_RECURSE TIDM_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/*/test_*.c)
  foreach(src IN LISTS TIDM_UNIT_TESTS)
    get_filename_component(name ${src} NAME_WE)
    get_filename_component(dir ${src} DIRECTORY)
    get_filename_component(mod ${dir} NAME)
    set(t unit_${mod}_${name})
    add_executable(${t} ${src})
    target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
    target_link_libraries(${t} PRIVATE tidm_core PkgConfig::CMOCKA)
    # tests/unit/<mod>/test_<x>.wrap: one symbol per line, linked with -Wl,--wrap=<sym>
    # so the test can script a library (e.g. libmariadb) without a server.
    string(REGEX REPLACE "\\.c$" ".wrap" wrapfile ${src})
    if(EXISTS ${wrapfile})
      set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${wrapfile})
      file(STRINGS ${wrapfile} wrapsyms REGEX "^[A-Za-z_][A-Za-z0-9_]*$")
      foreach(sym IN LISTS wrapsyms)
        target_link_options(${t} PRIVATE "LINKER:--wrap=${sym}")
      endforeach()
    endif()
    add_test(NAME ${t} COMMAND ${t})
    set_tests_properties(${t} PROPERTIES LABELS unit TIMEOUT 300 ENVIRONMENT "${TIDM_TEST_ENV}")
  endforeach()
endif()

# Fuzz targets: always built with a standalone replay driver; with TIDM_FUZZ=ON also as libFuzzer binaries.
file(GLOB TIDM_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
foreach(src IN LISTS TIDM_FUZZ_TARGETS)
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name}_replay ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz/standalone_driver.c)
  target_link_libraries(${name}_replay PRIVATE tidm_pure)
  add_test(NAME ${name} COMMAND ${name}_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
  set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 600)
  if(TIDM_FUZZ)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE tidm_pure)
  endif()
endforeach()

# Integration tests share one pair of throwaway servers, started and stopped by CTest fixtures.
#
# Concurrency (ctest -j2 and more): an integration or browser test is ISOLATED, and runs
# beside other tests, when everything it touches is its own: databases from test_db, job
# names and their tidm_meta rows (by name), users and roles with names no other test
# uses or lists, extra servers (start_extra_server) and fake primaries, and it asserts
# nothing about server-wide state another test's work moves (other sessions, Threads_
# connected, the binlog file list, positions beyond "where my writes are"). Anything else
# makes it EXCLUSIVE, listed below: SET GLOBAL, FLUSH/PURGE BINARY LOGS, FLUSH TABLES WITH
# READ LOCK, killing other sessions or Binlog Dump threads, stopping or restarting the
# source/target, changing tidm_meta's tables, timing limits that a busy machine breaks.
# EXCLUSIVE tests run alone (RUN_SERIAL: no other test of any label at the same time).
# When in doubt, EXCLUSIVE. Tests that are isolated from all but each other (the same
# fixed database names, e.g. what a fixture binlog creates) share a RESOURCE_LOCK instead.
# tests/harness/lib.sh's header says the same for whoever writes a test.
set(TIDM_EXCLUSIVE_TESTS
    integration_test_binlog_types         # SET GLOBAL binlog_row_metadata ..., FLUSH BINARY LOGS
    integration_test_full_nonempty        # SET GLOBAL local_infile; drops a tidm_meta column
    integration_test_precheck_binlog      # SET GLOBAL binlog_format, binlog_row_image, binlog_expire_logs_seconds
    integration_test_repl_stream          # kills and restarts the source; PURGE BINARY LOGS
    integration_test_sync_big_txn         # SET GLOBAL on the target; kills every Binlog Dump; alters tidm_meta
    integration_test_sync_errors          # FLUSH and PURGE BINARY LOGS
    integration_test_sync_format          # SET GLOBAL binlog_format = MIXED on the source
    integration_test_sync_source_restart  # restarts the source
    integration_test_sync_target_lost     # kills the target's root sessions, restarts the target
    browser_test_console)                 # load-time limits (300 ms) that a busy machine breaks
# Tests that create databases with fixed names on the target (the fixture binlogs' own).
set(TIDM_FIXED_DB_TESTS integration_test_sync_fake_fixtures integration_test_sync_fake_primary
    integration_test_sync_fake_hostile)

# The slowest isolated tests (seconds, roughly) start first, so that the last minutes of a
# -j2 run are not one long test alone (CTest's own cost data, once a build tree has run
# the tests, takes over).
set(TIDM_SLOW_TESTS integration_test_sync_ddl_race:120 integration_test_sync_fake_fixtures:110
    integration_test_precheck_servers:60 integration_test_full_shapes:40 integration_test_service_daemon:40
    integration_test_precheck_fake:40 integration_test_full_types:36 integration_test_fault_stall:60
    integration_test_fault_matrix:100 integration_test_fault_kill_seeded:40)

function(tidm_integration_concurrency t)
  foreach(slow IN LISTS TIDM_SLOW_TESTS)
    if(slow MATCHES "^${t}:([0-9]+)$")
      set_tests_properties(${t} PROPERTIES COST ${CMAKE_MATCH_1})
    endif()
  endforeach()
  if(t IN_LIST TIDM_EXCLUSIVE_TESTS)
    set_tests_properties(${t} PROPERTIES RUN_SERIAL TRUE)
  elseif(t IN_LIST TIDM_FIXED_DB_TESTS)
    set_tests_properties(${t} PROPERTIES RESOURCE_LOCK tidm_fixed_dbs)
  endif()
endfunction()

file(GLOB TIDM_INTEGRATION_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/integration/test_*.sh)
add_test(NAME integration_servers_start COMMAND ${CMAKE_SOURCE_DIR}/scripts/testdb.sh start)
add_test(NAME integration_servers_stop COMMAND ${CMAKE_SOURCE_DIR}/scripts/testdb.sh stop)
set_tests_properties(integration_servers_start PROPERTIES FIXTURES_SETUP testdb LABELS integration
                     ENVIRONMENT "${TIDM_TEST_ENV}" TIMEOUT 180)
set_tests_properties(integration_servers_stop PROPERTIES FIXTURES_CLEANUP testdb LABELS integration
                     ENVIRONMENT "${TIDM_TEST_ENV}" TIMEOUT 120)
foreach(src IN LISTS TIDM_INTEGRATION_TESTS)
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME integration_${name} COMMAND bash ${src})
  set_tests_properties(integration_${name} PROPERTIES LABELS integration FIXTURES_REQUIRED testdb SKIP_RETURN_CODE 77
                       TIMEOUT 900 ENVIRONMENT "${TIDM_TEST_ENV}")
  tidm_integration_concurrency(integration_${name})
endforeach()

# The house rules of the source tree: includes point down the layers, no file over 1,500 lines.
add_test(NAME unit_layout COMMAND bash ${CMAKE_SOURCE_DIR}/tests/lint/test_layout.sh)
set_tests_properties(unit_layout PROPERTIES LABELS unit TIMEOUT 60 ENVIRONMENT "${TIDM_TEST_ENV}")

# Browser tests of the web console (tests/browser/test_*.sh, label "browser"): Debian's
# chromium driven by playwright-core from tests/browser/node_modules (scripts/setup.sh
# runs `npm ci` there), on the same throwaway servers as the integration tests.
file(GLOB TIDM_BROWSER_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/browser/test_*.sh)
foreach(src IN LISTS TIDM_BROWSER_TESTS)
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME browser_${name} COMMAND bash ${src})
  set_tests_properties(browser_${name} PROPERTIES LABELS browser FIXTURES_REQUIRED testdb SKIP_RETURN_CODE 77
                       TIMEOUT 600 ENVIRONMENT "${TIDM_TEST_ENV}")
  tidm_integration_concurrency(browser_${name})
endforeach()
