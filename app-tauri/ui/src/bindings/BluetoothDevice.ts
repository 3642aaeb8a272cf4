// TEMPORARY hand copy until the generated bindings replace it.

export type BluetoothDevice = { id: string, name: string, kind: string, simulated: boolean, paired: boolean, };
