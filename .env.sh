export DATABASE_URL=postgres://root@127.0.0.1:5432/brob_httpbench
export TEST_DATABASE_NAME=test_brob_httpbench
export DEBUG=false
export SECRET_KEY=x
export BROBYGGER_REQUIRE_POSTGRES=1
export BROBYGGER_REQUIRE_CORPUS=1
