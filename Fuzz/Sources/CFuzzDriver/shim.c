// Empty: the header declares a symbol libFuzzer provides.
