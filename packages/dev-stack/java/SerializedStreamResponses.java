package webrtclite.emulator;

import java.lang.classfile.AccessFlags;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.lang.classfile.FieldModel;
import java.lang.classfile.Label;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.TypeKind;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * The Java agent of the Firestore emulator's launcher JAR (its Launcher-Agent-Class): keeps
 * each Listen stream's messages whole and in order, and tells every open stream of a commit.
 *
 * <p>The emulator answers a Listen stream from two threads with no lock between them: the thread
 * that reads the client's request (adding a target sends ADD, the documents read for it, CURRENT)
 * and the thread of any commit that changes a target the stream watches. Two things go wrong:
 *
 * <ul>
 *   <li>grpc-java's StreamObserver is not thread-safe, so two messages' bytes can interleave; the
 *       client reads a bogus length prefix and drops the stream (grpc-js: "Received message larger
 *       than max"), and the Firestore SDK waits up to a minute before it listens again, every
 *       listener of that client silent meanwhile. The observer's onNext, onError and onCompleted
 *       become synchronized, which is what grpc-java asks of its callers.
 *   <li>Adding a target registers it with the ListenStreamManager (under the manager's lock) but
 *       sends what it read afterwards, outside it: a commit in between sends its change first,
 *       and then the older read (after a RESET, when the client resumes) replaces it, so the
 *       listener never holds that write. The stream's addTarget now runs whole under the
 *       manager's lock, as a commit's notifyListeners does, so a commit comes before it (and is
 *       in what it reads) or after it (and is sent after its CURRENT).
 *   <li>After a commit has sent each changed target's documents, the ListenStreamManager tells
 *       every stream it wrote to that it is in sync (a NO_CHANGE with a read time, which is what
 *       makes the SDK raise a snapshot), one stream after the other, and the first stream whose
 *       client has gone meanwhile throws: the streams after it never hear it, and their
 *       listeners hold the commit's documents unseen until another commit reaches them. Each
 *       stream is now told on its own, a closed one skipped (its own cancellation removes it).
 * </ul>
 */
public final class SerializedStreamResponses {
  /** grpc-java's StreamObserver behind every server call (io.grpc.stub.ServerCalls). */
  private static final String OBSERVER = "io/grpc/stub/ServerCalls$ServerCallStreamObserverImpl";

  /** The observer's methods that send on the call. */
  private static final Set<String> SENDS = Set.of("onNext", "onError", "onCompleted");

  /** The emulator's Firestore Listen stream. */
  private static final String LISTEN_STREAM = "com/google/cloud/datastore/emulator/impl/firestore/CloudFirestoreV1ListenStream";

  /** The stream's method that adds a target, its field holding the manager, and the name its original body moves to. */
  private static final String ADD_TARGET = "addTarget";
  private static final String MANAGER_FIELD = "manager";
  private static final String ADD_TARGET_UNLOCKED = "addTargetWithoutManagerLock";

  /** The emulator's registry of listen targets, and its method that tells streams they are in sync. */
  private static final String MANAGER = "com/google/cloud/datastore/emulator/impl/watch/ListenStreamManager";
  private static final String NOTIFY_LISTENERS_SYNCED = "notifyListenersSynced";

  /** One Listen stream as the manager sees it, its in-sync message, and what it throws once its client has gone. */
  private static final ClassDesc LISTEN_STREAM_TYPE = ClassDesc.ofInternalName("com/google/cloud/datastore/emulator/impl/watch/ListenStream");
  private static final String NOTIFY_SYNCED = "notifySynced";
  private static final ClassDesc STREAM_CLOSED = ClassDesc.ofInternalName("com/google/cloud/datastore/emulator/impl/util/StreamTransportClosedException");

  /** The method the agent adds to the manager: one stream's in-sync message, unless that stream has closed. */
  private static final String NOTIFY_SYNCED_UNLESS_CLOSED = "notifySyncedUnlessClosed";

  /** What a class becomes, and what the agent prints once it has. */
  private record Change(UnaryOperator<byte[]> transform, String report) {}

  private static final Map<String, Change> CHANGES = Map.of(
      OBSERVER, new Change(SerializedStreamResponses::synchronizeSends,
          "sends one message at a time (" + String.join(", ", new TreeSet<>(SENDS)) + " synchronized)"),
      LISTEN_STREAM, new Change(SerializedStreamResponses::addTargetUnderManagerLock,
          "adds each target whole under the ListenStreamManager's lock"),
      MANAGER, new Change(SerializedStreamResponses::syncEveryOpenStream,
          "tells every open stream it is in sync, past one that has closed"));

  private SerializedStreamResponses() {}

  /** Installs the transformer before the emulator's main method runs. */
  public static void agentmain(String arguments, Instrumentation instrumentation) {
    instrumentation.addTransformer(new ClassFileTransformer() {
      @Override
      public byte[] transform(ClassLoader loader, String className, Class<?> redefined, ProtectionDomain domain, byte[] bytes) {
        Change change = CHANGES.get(className);
        if (change == null) return null;
        try {
          byte[] transformed = change.transform().apply(bytes);
          System.err.println("webrtc-lite agent: " + className + " " + change.report());
          return transformed;
        } catch (RuntimeException | Error failure) {
          // A transformer's exception is swallowed by the JVM: say it, or the race comes back unseen.
          System.err.println("webrtc-lite agent: could not transform " + className + ": " + failure);
          return null;
        }
      }
    });
  }

  private static byte[] synchronizeSends(byte[] bytes) {
    ClassFile classFile = ClassFile.of();
    return classFile.transformClass(classFile.parse(bytes), ClassTransform.transformingMethods(
        method -> SENDS.contains(method.methodName().stringValue()),
        (method, element) -> {
          if (element instanceof AccessFlags flags) method.withFlags(flags.flagsMask() | ClassFile.ACC_SYNCHRONIZED);
          else method.with(element);
        }));
  }

  /**
   * Makes notifyListenersSynced call a new static method of the manager for each stream instead
   * of the stream's notifySynced: the new method catches what a closed stream throws.
   */
  private static byte[] syncEveryOpenStream(byte[] bytes) {
    ClassFile classFile = ClassFile.of();
    ClassModel model = classFile.parse(bytes);
    ClassDesc self = model.thisClass().asSymbol();
    MethodTypeDesc notifySynced = MethodTypeDesc.of(ConstantDescs.CD_void);
    MethodTypeDesc unlessClosed = MethodTypeDesc.of(ConstantDescs.CD_void, LISTEN_STREAM_TYPE);
    int[] replaced = {0};
    CodeTransform callUnlessClosed = (code, element) -> {
      if (element instanceof InvokeInstruction call && call.opcode() == Opcode.INVOKEINTERFACE
          && call.owner().asSymbol().equals(LISTEN_STREAM_TYPE) && call.name().equalsString(NOTIFY_SYNCED)) {
        code.invokestatic(self, NOTIFY_SYNCED_UNLESS_CLOSED, unlessClosed);
        replaced[0] += 1;
      } else {
        code.with(element);
      }
    };
    byte[] transformed = classFile.transformClass(model,
        ClassTransform.transformingMethodBodies(method -> method.methodName().equalsString(NOTIFY_LISTENERS_SYNCED), callUnlessClosed)
            .andThen(ClassTransform.endHandler(builder -> builder.withMethodBody(NOTIFY_SYNCED_UNLESS_CLOSED, unlessClosed,
                ClassFile.ACC_PRIVATE | ClassFile.ACC_STATIC | ClassFile.ACC_SYNTHETIC, code -> {
                  Label start = code.newLabel();
                  Label end = code.newLabel();
                  Label closed = code.newLabel();
                  code.labelBinding(start);
                  code.aload(0).invokeinterface(LISTEN_STREAM_TYPE, NOTIFY_SYNCED, notifySynced);
                  code.labelBinding(end);
                  code.return_();
                  code.labelBinding(closed);
                  code.pop().return_();
                  code.exceptionCatch(start, end, closed, STREAM_CLOSED);
                }))));
    if (replaced[0] != 1) {
      throw new IllegalStateException(NOTIFY_LISTENERS_SYNCED + " calls " + NOTIFY_SYNCED + " " + replaced[0] + " times, not once");
    }
    return transformed;
  }

  /**
   * Moves addTarget's body to a private method of another name and makes addTarget call it
   * inside {@code synchronized (this.manager)}.
   */
  private static byte[] addTargetUnderManagerLock(byte[] bytes) {
    ClassFile classFile = ClassFile.of();
    ClassModel model = classFile.parse(bytes);
    ClassDesc self = model.thisClass().asSymbol();
    ClassDesc managerType = model.fields().stream()
        .filter(field -> field.fieldName().equalsString(MANAGER_FIELD))
        .map(FieldModel::fieldTypeSymbol)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no field " + MANAGER_FIELD));
    if (model.methods().stream().noneMatch(method -> method.methodName().equalsString(ADD_TARGET) && method.methodTypeSymbol().returnType().descriptorString().equals("V"))) {
      throw new IllegalStateException("no void method " + ADD_TARGET);
    }
    return classFile.transformClass(model, (builder, element) -> {
      if (!(element instanceof MethodModel method) || !method.methodName().equalsString(ADD_TARGET)) {
        builder.with(element);
        return;
      }
      MethodTypeDesc type = method.methodTypeSymbol();
      int flags = method.flags().flagsMask();
      builder.withMethod(ADD_TARGET_UNLOCKED, type, flags, original -> method.forEach(original));
      builder.withMethodBody(ADD_TARGET, type, flags, code -> {
        int lock = code.allocateLocal(TypeKind.REFERENCE);
        int thrown = code.allocateLocal(TypeKind.REFERENCE);
        Label start = code.newLabel();
        Label end = code.newLabel();
        Label handler = code.newLabel();
        code.aload(0).getfield(self, MANAGER_FIELD, managerType).dup().astore(lock).monitorenter();
        code.labelBinding(start);
        code.aload(0);
        for (int index = 0; index < type.parameterCount(); index += 1) {
          code.loadLocal(TypeKind.from(type.parameterType(index)), code.parameterSlot(index));
        }
        code.invokespecial(self, ADD_TARGET_UNLOCKED, type);
        code.labelBinding(end);
        code.aload(lock).monitorexit().return_();
        code.labelBinding(handler);
        code.astore(thrown).aload(lock).monitorexit().aload(thrown).athrow();
        code.exceptionCatchAll(start, end, handler);
      });
    });
  }
}
