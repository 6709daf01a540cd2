package dev.telemetry.gateway.routing;

/** One routing rule: a condition and what to do with matching items. {@code cont} is the table's {@code continue}. */
public record Rule(String id, String description, Match match, Action action, boolean cont) {
}
