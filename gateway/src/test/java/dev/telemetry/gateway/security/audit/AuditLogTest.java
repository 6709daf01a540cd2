package dev.telemetry.gateway.security.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
  @TempDir
  Path tmp;

  Path write(int n) throws Exception {
    Path file = tmp.resolve("audit.jsonl");
    try (AuditLog log = new AuditLog(file, new SimpleMeterRegistry())) {
      for (int i = 0; i < n; i++) {
        log.record("admin", "admin token from 127.0.0.1", "PUT /api/v1/routes", "ok", "entry " + i);
      }
      log.awaitWritten(5_000);
    }
    return file;
  }

  @Test
  void anIntactChainVerifiesAndContinuesAfterARestart() throws Exception {
    Path file = write(3);
    assertThat(AuditChain.verify(file).intact()).isTrue();
    try (AuditLog again = new AuditLog(file, new SimpleMeterRegistry())) {
      // Lines of the audit loggers are entries too (routing table versions, SLO files, remediations, cluster).
      Logger.getLogger("dev.telemetry.gateway.routing.audit").info("routing table version 2 applied (source: api)");
      Logger.getLogger("dev.telemetry.gateway.audit.remediations").warning("remediation x rate_limited");
      again.awaitWritten(5_000);
    }
    AuditChain.Verdict v = AuditChain.verify(file);
    assertThat(v.intact()).isTrue();
    assertThat(v.entries()).isEqualTo(5);
    List<String> lines = Files.readAllLines(file);
    JsonObject routing = new JsonObject(lines.get(3));
    assertThat(routing.getLong("seq")).isEqualTo(3);
    assertThat(routing.getString("kind")).isEqualTo("routing");
    assertThat(routing.getString("detail")).isEqualTo("routing table version 2 applied (source: api)");
    JsonObject remediation = new JsonObject(lines.get(4));
    assertThat(remediation.getString("kind")).isEqualTo("remediations");
    assertThat(remediation.getString("outcome")).isEqualTo("rejected");
  }

  @Test
  void aChangedRemovedOrReorderedLineIsFoundAtItsLine() throws Exception {
    Path file = write(5);
    List<String> original = Files.readAllLines(file);

    List<String> changed = new ArrayList<>(original);
    changed.set(2, changed.get(2).replace("entry 2", "entry 9"));
    Files.write(file, changed);
    AuditChain.Verdict v = AuditChain.verify(file);
    assertThat(v.brokenLine()).isEqualTo(3);
    assertThat(v.problem()).contains("does not match its content");

    // Recomputing the changed line's own hash does not help: the next line no longer follows it.
    JsonObject e = new JsonObject(original.get(2).substring(0, original.get(2).lastIndexOf(",\"hash\"")) + "}");
    String[] forged = AuditChain.line(e.getLong("seq"), e.getString("at"), e.getString("kind"), e.getString("actor"),
        e.getString("action"), e.getString("outcome"), "entry 9", e.getString("prev"));
    changed.set(2, forged[0]);
    Files.write(file, changed);
    v = AuditChain.verify(file);
    assertThat(v.brokenLine()).isEqualTo(4);
    assertThat(v.problem()).contains("does not follow the line before it");

    List<String> removed = new ArrayList<>(original);
    removed.remove(1);
    Files.write(file, removed);
    assertThat(AuditChain.verify(file).brokenLine()).isEqualTo(2);

    List<String> reordered = new ArrayList<>(original);
    reordered.set(3, original.get(4));
    reordered.set(4, original.get(3));
    Files.write(file, reordered);
    assertThat(AuditChain.verify(file).brokenLine()).isEqualTo(4);

    Files.write(file, List.of(original.get(0), "{\"seq\":1}"));
    assertThat(AuditChain.verify(file).problem()).isEqualTo("not an audit entry (no hash)");
  }
}
