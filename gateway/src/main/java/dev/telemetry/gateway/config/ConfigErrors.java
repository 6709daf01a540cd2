package dev.telemetry.gateway.config;

import java.util.ArrayList;
import java.util.List;

/** Collects every problem in a config file so that one run reports them all, not just the first. */
final class ConfigErrors {
  private final List<String> problems = new ArrayList<>();

  void add(String path, String problem) {
    problems.add((path.isEmpty() ? "(root)" : path) + ": " + problem);
  }

  int count() {
    return problems.size();
  }

  List<String> list() {
    return List.copyOf(problems);
  }

  void throwIfAny() throws ConfigException {
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }
}
