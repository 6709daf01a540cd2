package dev.telemetry.gateway.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** How validation messages name a JSON value they did not expect ({@code found "x"}, {@code found a list}). */
public final class JsonDescriptions {
  private JsonDescriptions() {
  }

  public static String describe(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String s) {
      return "\"" + s + "\"";
    }
    if (v instanceof JsonObject) {
      return "an object";
    }
    if (v instanceof JsonArray) {
      return "a list";
    }
    return v.toString();
  }
}
