import { signInAnonymously } from "firebase/auth";
import { createTurnClient, type TurnClient } from "@webrtc-lite/client";
import { connectPageFirebase } from "./firebase";
import type { CandidateRow } from "./diagnosis";
import { runSelfTest, type SelfTestResult, type SelfTestServices } from "./run";

declare global {
  interface Window {
    /** The last run's result, for automated checks of this page. */
    selfTestResult?: SelfTestResult;
  }
}

const button = document.querySelector<HTMLButtonElement>("#run")!;
const verdict = document.querySelector<HTMLParagraphElement>("#verdict")!;
const steps = document.querySelector<HTMLOListElement>("#steps")!;
const candidates = document.querySelector<HTMLTableSectionElement>("#candidates tbody")!;

/** Signs in anonymously and fetches TURN credentials with a fresh client on every run. */
async function connect(): Promise<SelfTestServices> {
  const { auth, functions } = await connectPageFirebase();
  let turn: TurnClient | undefined;
  return {
    async signIn() {
      const { user } = await signInAnonymously(auth);
      turn = createTurnClient(functions);
      return user.uid;
    },
    getCredentials: () => turn!.getCredentials(),
  };
}

function showVerdict(pass: boolean, sentence: string): void {
  verdict.textContent = sentence;
  verdict.dataset.outcome = pass ? "pass" : "fail";
}

function addStep(text: string): void {
  const item = document.createElement("li");
  item.textContent = text;
  steps.append(item);
}

function addCandidate(row: CandidateRow): void {
  const tr = document.createElement("tr");
  tr.dataset.type = row.type;
  for (const value of [row.peer, row.type, row.protocol, row.address, String(row.ms)]) {
    const td = document.createElement("td");
    td.textContent = value;
    tr.append(td);
  }
  candidates.append(tr);
}

connect().then(
  (services) => {
    button.disabled = false;
    const run = async (): Promise<void> => {
      button.disabled = true;
      verdict.textContent = "";
      delete verdict.dataset.outcome;
      steps.replaceChildren();
      candidates.replaceChildren();
      const result = await runSelfTest(services, { step: addStep, candidate: addCandidate });
      window.selfTestResult = result;
      showVerdict(result.pass, result.verdict);
      button.disabled = false;
    };
    // runSelfTest turns every failure into a verdict; it does not reject.
    button.addEventListener("click", () => void run());
  },
  (error: unknown) => showVerdict(false, error instanceof Error ? error.message : String(error)),
);
