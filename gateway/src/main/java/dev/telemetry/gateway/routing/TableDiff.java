package dev.telemetry.gateway.routing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** A one-line summary of what changed between two routing tables, for the audit log and the version history. */
final class TableDiff {
  private TableDiff() {
  }

  static String summarize(JsonObject before, JsonObject after) {
    Map<String, JsonObject> a = rulesById(before);
    Map<String, JsonObject> b = rulesById(after);
    List<String> added = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    b.forEach((id, rule) -> {
      if (!a.containsKey(id)) {
        added.add(id);
      } else if (!a.get(id).equals(rule)) {
        changed.add(id);
      }
    });
    a.keySet().stream().filter(id -> !b.containsKey(id)).forEach(removed::add);
    List<String> commonBefore = a.keySet().stream().filter(b::containsKey).toList();
    List<String> commonAfter = b.keySet().stream().filter(a::containsKey).toList();
    List<String> parts = new ArrayList<>();
    if (!added.isEmpty()) {
      parts.add("added " + added);
    }
    if (!removed.isEmpty()) {
      parts.add("removed " + removed);
    }
    if (!changed.isEmpty()) {
      parts.add("changed " + changed);
    }
    if (!commonBefore.equals(commonAfter)) {
      parts.add("reordered " + commonAfter);
    }
    if (!Objects.equals(before.getValue("default"), after.getValue("default"))) {
      parts.add("default route changed");
    }
    if (!Objects.equals(before.getValue("tenant"), after.getValue("tenant"))) {
      parts.add("tenant source changed");
    }
    return parts.isEmpty() ? "no rule changes (" + b.size() + " rules)"
        : String.join("; ", parts) + " (" + b.size() + " rules)";
  }

  private static Map<String, JsonObject> rulesById(JsonObject table) {
    Map<String, JsonObject> out = new LinkedHashMap<>();
    Object rules = table.getValue("rules");
    if (rules instanceof JsonArray arr) {
      for (Object r : arr) {
        if (r instanceof JsonObject o && o.getValue("id") instanceof String id) {
          out.put(id, o);
        }
      }
    }
    return out;
  }
}
