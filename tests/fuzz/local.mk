# libFuzzer targets, built with --enable-fuzz
