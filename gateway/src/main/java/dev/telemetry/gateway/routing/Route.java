package dev.telemetry.gateway.routing;

/** A destination an item was routed to: the action and the rule it came from ({@code "default"} when none matched). */
public record Route(String ruleId, Action action) {
  public static final String DEFAULT_ID = "default";

  public boolean isDefault() {
    return DEFAULT_ID.equals(ruleId);
  }
}
