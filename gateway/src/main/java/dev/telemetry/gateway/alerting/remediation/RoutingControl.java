package dev.telemetry.gateway.alerting.remediation;

import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * What remediations may do to the routing table: read it, validate a candidate, apply one, and roll back to an
 * earlier version — each change a new, audited version like any other (blocking: called on a worker thread).
 */
public interface RoutingControl {
  /** The table in use (its JSON) and its version number. */
  JsonObject currentTable();

  int currentVersion();

  /** The problems of a candidate table (empty: valid here). */
  List<String> validate(JsonObject table);

  /** Applies a table; returns its version. */
  int apply(JsonObject table, String source) throws Exception;

  /** Re-applies version {@code version} as a new version; returns it. */
  int rollback(int version, String source) throws Exception;
}
