package dev.telemetry.gateway.routing;

import java.util.List;

/**
 * An invalid routing table. Each problem is one line, {@code json.path: what is wrong and how to fix it}; a table
 * that fails validation never replaces the current one.
 */
public final class RoutingTableException extends Exception {
  private final List<String> problems;

  public RoutingTableException(List<String> problems) {
    super(String.join("\n", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
