package labenv.notebook.kernel;

import io.github.spencerpark.jupyter.channels.JupyterConnection;
import io.github.spencerpark.jupyter.kernel.KernelConnectionProperties;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import labenv.LabenvException;
import sun.misc.Signal;

/**
 * {@code java -jar labenv-kernel.jar}: the kernel a notebook server starts, and its installer.
 *
 * <pre>
 * java -jar labenv-kernel.jar [--classpath PATH]... CONNECTION_FILE
 * java -jar labenv-kernel.jar --install PREFIX [--java JAVA] [--classpath PATH]...
 * </pre>
 */
public final class Main {
  static final String USAGE = String.join("\n",
      "usage: java -jar labenv-kernel.jar [--classpath PATH]... CONNECTION_FILE",
      "       java -jar labenv-kernel.jar --install PREFIX [--java JAVA] [--classpath PATH]...",
      "",
      "Runs the labenv Java kernel (JShell, with tablesaw) for the Jupyter connection file, or installs it:",
      "--install copies this jar to PREFIX/share/labenv-kernel/labenv-kernel.jar and writes the kernelspec",
      "PREFIX/share/jupyter/kernels/labenv-java/kernel.json (PREFIX /usr/local: every Jupyter finds it).",
      "",
      "  --classpath PATH  more jars for the cells: jars and class directories separated by ':', DIR/* for",
      "                    every jar in DIR (repeatable). The jars listed in " + KernelClasspath.MAVEN_CLASSPATH,
      "                    (an Envfile's MAVEN instruction) are always added when that file exists.",
      "  --java JAVA       the java the kernelspec starts (default: java, from the PATH); it needs JShell,",
      "                    so a JDK (Debian: openjdk-17-jdk-headless)");

  private Main() {}

  public static void main(String[] args) {
    try {
      System.exit(run(args));
    } catch (LabenvException e) {
      System.err.println("labenv-kernel: " + e.getMessage());
      System.exit(e.exitCode());
    }
  }

  static int run(String[] args) {
    List<String> classpath = new ArrayList<>();
    Path install = null;
    String java = "java";
    String connectionFile = null;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "-h", "--help" -> {
          System.out.println(USAGE);
          return 0;
        }
        case "--version" -> {
          System.out.println(JavaKernel.IMPLEMENTATION + " " + JavaKernel.version());
          return 0;
        }
        case "--classpath" -> classpath.add(value(args, ++i, arg));
        case "--install" -> install = Path.of(value(args, ++i, arg));
        case "--java" -> java = value(args, ++i, arg);
        default -> {
          if (arg.startsWith("-") || connectionFile != null) {
            throw LabenvException.badInput("unexpected argument " + arg + "\n" + USAGE);
          }
          connectionFile = arg;
        }
      }
    }
    if (install != null) {
      if (connectionFile != null) {
        throw LabenvException.badInput("--install takes no connection file\n" + USAGE);
      }
      KernelSpec.Installed installed = KernelSpec.install(install, KernelSpec.runningJar(), java, classpath);
      System.out.println("installed kernelspec " + KernelSpec.NAME + ": " + installed.kernelJson() + " (runs "
          + installed.jar() + ")");
      return 0;
    }
    if (connectionFile == null) {
      throw LabenvException.badInput("no connection file\n" + USAGE);
    }
    serve(Path.of(connectionFile), KernelClasspath.resolve(Path.of(KernelClasspath.MAVEN_CLASSPATH), classpath));
    return 0;
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw LabenvException.badInput(option + " needs a value\n" + USAGE);
    }
    return args[i];
  }

  /** Serves the connection until a shutdown request. */
  private static void serve(Path connectionFile, List<Path> classpath) {
    if (ModuleLayer.boot().findModule("jdk.jshell").isEmpty()) {
      throw LabenvException.failed("the Java runtime at " + System.getProperty("java.home")
          + " has no jdk.jshell module (a JRE?): start the kernel with a JDK, e.g. Debian's openjdk-17-jdk-headless");
    }
    KernelConnectionProperties properties;
    try {
      properties = KernelConnectionProperties.parse(Files.readString(connectionFile));
    } catch (IOException e) {
      throw LabenvException.badInput("cannot read the connection file " + connectionFile + ": " + e.getMessage());
    } catch (RuntimeException e) {
      throw LabenvException.badInput("the connection file " + connectionFile + " is not Jupyter's JSON: "
          + e.getMessage());
    }
    // The basekernel logs every message at INFO on stderr, which the notebook server shows as its own log.
    Logger.getLogger("").setLevel(Level.WARNING);
    JupyterConnection connection;
    try {
      connection = new JupyterConnection(properties);
    } catch (GeneralSecurityException e) {
      throw LabenvException.badInput("the connection file " + connectionFile + " names a signature scheme this Java "
          + "cannot compute: " + e.getMessage());
    }
    JavaKernel kernel = new JavaKernel(classpath);
    kernel.becomeHandlerForConnection(connection);
    // interrupt_mode "signal" (Jupyter's default for kernelspecs that do not say) sends SIGINT: stop the cell, as
    // an interrupt_request does, rather than let the JVM exit.
    Signal.handle(new Signal("INT"), signal -> kernel.interrupt());
    connection.connect();
    connection.waitUntilClose();
  }
}
