package dev.telemetry.gateway.security.audit;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The tamper-evident audit log's format: one JSON object per line, {@code {"seq", "at", "kind", "actor", "action",
 * "outcome", "detail", "prev"}} then {@code "hash"} — the SHA-256 (hex) of the line's text up to, and without, the
 * {@code ,"hash":…} member, closed by {@code }}. {@code prev} is the previous line's hash (the first line's is
 * {@value #GENESIS}), so changing, removing or reordering any line breaks the chain at that line. Hashing the text
 * as written (not a re-encoding) makes verification independent of any JSON library's formatting.
 */
public final class AuditChain {
  public static final String GENESIS = "0000000000000000000000000000000000000000000000000000000000000000";
  static final String HASH_MEMBER = ",\"hash\":\"";

  private AuditChain() {
  }

  /** The line for an entry (without hash) chained to {@code prev}: its text and its hash. */
  static String[] line(long seq, String at, String kind, String actor, String action, String outcome,
                       String detail, String prev) {
    String body = new JsonObject().put("seq", seq).put("at", at).put("kind", kind).put("actor", actor)
        .put("action", action).put("outcome", outcome).put("detail", detail).put("prev", prev).encode();
    String hash = sha256(body);
    return new String[] {body.substring(0, body.length() - 1) + HASH_MEMBER + hash + "\"}", hash};
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(
          StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The outcome of verifying a file: entries read, and the first broken line (0: none) with why. */
  public record Verdict(long entries, long brokenLine, String problem, String lastHash) {
    public boolean intact() {
      return brokenLine == 0;
    }
  }

  /** Checks every line's hash and link; stops at the first broken one. */
  public static Verdict verify(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    String prev = GENESIS;
    long seq = -1;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int at = line.lastIndexOf(HASH_MEMBER);
      if (at < 0 || !line.endsWith("\"}")) {
        return new Verdict(i, i + 1, "not an audit entry (no hash)", prev);
      }
      String hash = line.substring(at + HASH_MEMBER.length(), line.length() - 2);
      String body = line.substring(0, at) + "}";
      if (!sha256(body).equals(hash)) {
        return new Verdict(i, i + 1, "its hash does not match its content (the line was changed)", prev);
      }
      JsonObject entry;
      try {
        entry = new JsonObject(body);
      } catch (RuntimeException e) {
        return new Verdict(i, i + 1, "not JSON", prev);
      }
      if (!prev.equals(entry.getString("prev"))) {
        return new Verdict(i, i + 1, "it does not follow the line before it (a line before it was removed, "
            + "changed or reordered)", prev);
      }
      long s = entry.getLong("seq", -1L);
      if (seq >= 0 && s != seq + 1) {
        return new Verdict(i, i + 1, "sequence " + s + " after " + seq, prev);
      }
      seq = s;
      prev = hash;
    }
    return new Verdict(lines.size(), 0, null, prev);
  }
}
