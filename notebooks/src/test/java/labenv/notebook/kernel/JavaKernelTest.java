package labenv.notebook.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import io.github.spencerpark.jupyter.messages.Header;
import io.github.spencerpark.jupyter.messages.KernelTimestamp;
import io.github.spencerpark.jupyter.messages.Message;
import io.github.spencerpark.jupyter.messages.MessageType;
import io.github.spencerpark.jupyter.messages.request.KernelInfoRequest;
import java.awt.image.BufferedImage;
import java.time.Instant;
import java.util.List;
import labenv.notebook.kernel.CellEvaluator.CellValue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/** The kernel's choices between the protocol and the evaluator, without sockets. */
class JavaKernelTest {
  private static JavaKernel kernel;

  @BeforeAll
  static void create() {
    kernel = new JavaKernel(List.of());
  }

  @AfterAll
  static void shutdown() {
    kernel.onShutdown(false);
  }

  @Test
  void valuesKeepJShellsTextUnlessTheyRenderBetter() {
    assertEquals("\"a\"", kernel.render(new CellValue("a", "\"a\"")).getData(MIMEType.TEXT_PLAIN));
    assertEquals("null", kernel.render(new CellValue(null, "null")).getData(MIMEType.TEXT_PLAIN));

    Table table = Table.create("t", IntColumn.create("n", 1));
    DisplayData tableData = kernel.render(new CellValue(table, table.toString()));
    assertEquals(Renderings.tableHtml(table), tableData.getData(MIMEType.TEXT_HTML));
    assertEquals(Renderings.tableText(table), tableData.getData(MIMEType.TEXT_PLAIN));

    DisplayData image = kernel.render(new CellValue(new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB), "img"));
    assertTrue(image.hasDataForType(MIMEType.IMAGE_PNG));
    assertFalse(image.hasDataForType(MIMEType.TEXT_HTML));
  }

  @Test
  void aRequestIsQueuedBehindAFailureIfTheClientSentItBefore() {
    Instant failure = Instant.parse("2026-11-22T17:00:00.500Z");
    assertTrue(JavaKernel.sentBefore(request("2026-11-22T17:00:00.400000Z"), failure));
    assertTrue(JavaKernel.sentBefore(request("2026-11-22T18:00:00.400000+01:00"), failure));
    assertFalse(JavaKernel.sentBefore(request("2026-11-22T17:00:00.600000Z"), failure));
    assertFalse(JavaKernel.sentBefore(request("not a date"), failure));
    assertFalse(JavaKernel.sentBefore(request(null), failure));
  }

  private static Message<KernelInfoRequest> request(String date) {
    return new Message<>(new Header<>("id", "user", "session", date == null ? null : new KernelTimestamp(date),
        MessageType.KERNEL_INFO_REQUEST, Header.PROTOCOL_VERISON), new KernelInfoRequest());
  }
}
