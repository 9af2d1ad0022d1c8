# cmocka unit tests: UNIT_TESTS += tests/unit/test_NAME
