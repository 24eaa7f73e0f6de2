/** The part of asterisk-manager (untyped) that the AMI adapter uses. */
declare module 'asterisk-manager' {
  export interface ManagerMessage {
    event?: string;
    response?: string;
    actionid?: string;
    message?: string;
    [key: string]: unknown;
  }

  export interface Manager {
    on(event: string, listener: (msg: ManagerMessage) => void): void;
    removeAllListeners(event?: string): void;
    /** Reconnects (10 s, growing to 60 s) whenever the connection closes; call it right after construction. */
    keepConnected(): void;
    action(
      action: Record<string, string | number | boolean | undefined>,
      callback?: (err: ManagerMessage | undefined, res: ManagerMessage) => void,
    ): string;
    disconnect(callback?: () => void): void;
    isConnected(): boolean;
  }

  /** Connects and logs in at once when given a port. */
  function AsteriskManager(port: number, host: string, username: string, secret: string, events: boolean): Manager;
  export default AsteriskManager;
}
