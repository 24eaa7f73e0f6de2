import type { AccountService } from '../../accounts/account-service.js';
import type { CallContext, Prompt } from '../context.js';
import type { IvrPresencePort, IvrResumePort } from '../ports.js';

/** Where a call is: each state's handler returns the next one. */
export type State =
  | { name: 'logon' }
  | { name: 'resume' }
  | { name: 'messages' }
  /** `lead`: what the caller hears first, in the same playback as the menu (what the state before had to say). */
  | { name: 'main'; lead?: Prompt[] }
  | { name: 'online' }
  | { name: 'set-presence' }
  | { name: 'start-chat' }
  | { name: 'live-chat'; sessionId: string }
  | { name: 'goodbye'; prompts?: Prompt[] }
  | { name: 'end' };

/** What the flows use besides the call itself. */
export interface FlowServices {
  accounts: AccountService;
  presence: IvrPresencePort;
  resume: IvrResumePort;
}

export type StateHandler = (ctx: CallContext, svc: FlowServices, state: State) => Promise<State>;
