package dev.telemetry.gateway.routing;

/**
 * What a routing condition looks at. The level says how much of a request shares the value: a rule whose conditions
 * are all at resource level is decided once per resource, not once per item.
 */
public enum Subject {
  SIGNAL("signal", Level.REQUEST, false),
  TENANT("tenant", Level.RESOURCE, false),
  RESOURCE("resource", Level.RESOURCE, true),
  SCOPE_NAME("scope.name", Level.SCOPE, false),
  SCOPE_VERSION("scope.version", Level.SCOPE, false),
  ATTRIBUTE("attribute", Level.ITEM, true),
  SEVERITY("severity", Level.ITEM, false),
  BODY("body", Level.ITEM, false),
  SPAN_NAME("span_name", Level.ITEM, false),
  SPAN_KIND("span_kind", Level.ITEM, false),
  SPAN_STATUS("span_status", Level.ITEM, false),
  METRIC_NAME("metric_name", Level.ITEM, false);

  /** Where in a request a value lives, outermost first. */
  public enum Level { REQUEST, RESOURCE, SCOPE, ITEM }

  private final String jsonName;
  private final Level level;
  private final boolean keyed;

  Subject(String jsonName, Level level, boolean keyed) {
    this.jsonName = jsonName;
    this.level = level;
    this.keyed = keyed;
  }

  /** How the subject is written in a routing table. */
  public String jsonName() {
    return jsonName;
  }

  public Level level() {
    return level;
  }

  /** Whether the subject takes an attribute key ({@code resource}, {@code attribute}). */
  public boolean keyed() {
    return keyed;
  }
}
