package dev.telemetry.gateway.config;

import java.util.List;

/**
 * An invalid gateway configuration. Each problem is one line of the form {@code json.path: what is wrong}, so an
 * SRE can go straight to the offending key.
 */
public final class ConfigException extends Exception {
  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super(String.join("\n", problems));
    this.problems = List.copyOf(problems);
  }

  public ConfigException(String problem) {
    this(List.of(problem));
  }

  public List<String> problems() {
    return problems;
  }
}
