package dev.telemetry.gateway.alerting;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * One alert as Alertmanager's v2 API takes it. Its identity is its label set (Alertmanager's fingerprint): the same
 * condition seen again — on another cluster member, after a restart — is the same alert. {@code endsAt} null: firing
 * (the sender sets an expiry, as Prometheus does); set: resolved at that time.
 */
public record Alert(Map<String, String> labels, Map<String, String> annotations, Instant startsAt, Instant endsAt,
                    String generatorUrl) {
  public Alert {
    labels = Map.copyOf(new TreeMap<>(labels));
    annotations = Map.copyOf(new TreeMap<>(annotations));
  }

  public boolean firing() {
    return endsAt == null;
  }

  /** The identity: labels sorted. */
  public String key() {
    return new TreeMap<>(labels).toString();
  }

  /** The v2 API body element; a firing alert expires at {@code firingEndsAt} unless re-sent. */
  public JsonObject toJson(Instant firingEndsAt) {
    JsonObject l = new JsonObject();
    new TreeMap<>(labels).forEach(l::put);
    JsonObject a = new JsonObject();
    new TreeMap<>(annotations).forEach(a::put);
    return new JsonObject().put("labels", l).put("annotations", a).put("startsAt", startsAt.toString())
        .put("endsAt", (endsAt != null ? endsAt : firingEndsAt).toString()).put("generatorURL", generatorUrl);
  }
}
