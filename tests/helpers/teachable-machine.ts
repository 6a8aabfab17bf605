import * as tf from '@tensorflow/tfjs';

export const TM_LABELS = ['red', 'green', 'blue'];
export const TM_NAME = 'tm-my-image-model';

/**
 * A model shaped like a Teachable Machine image export, built here (no third-party export is
 * committed): a Sequential holding a Sequential "base" and a softmax head, saved without the
 * model_config wrapper and without a format field, with TM's metadata.json. Its weights make
 * it name the dominant colour of an image, so its answers can be checked.
 */
export async function teachableMachineExport(
  imageSize = 64,
  labels = TM_LABELS,
): Promise<{ name: string; bytes: Uint8Array }[]> {
  // Building the model needs a backend; the plain CPU one is always there.
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
  const base = tf.sequential({
    name: 'sequential_1',
    layers: [
      tf.layers.conv2d({ inputShape: [imageSize, imageSize, 3], filters: 4, kernelSize: 1, name: 'base_conv' }),
      tf.layers.globalAveragePooling2d({ name: 'base_pool' }),
    ],
  });
  const model = tf.sequential({
    name: 'sequential_3',
    layers: [base, tf.layers.dense({ units: labels.length, activation: 'softmax', name: 'head' })],
  });
  const kernel = tf.tensor4d([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [1, 1, 3, 4]);
  // Other labels than the three colours get a head that answers nothing in particular, but does look at the image
  // (a model that answers the same whatever the image fails the import trial).
  const dense =
    labels === TM_LABELS
      ? tf.tensor2d([5, -2.5, -2.5, -2.5, 5, -2.5, -2.5, -2.5, 5, 0, 0, 0], [4, 3])
      : tf.tensor2d(
          Array.from({ length: 4 * labels.length }, (_, i) => ((i * 7) % 11) / 10 - 0.5),
          [4, labels.length],
        );
  model.setWeights([kernel, tf.zeros([4]), dense, tf.zeros([labels.length])]);
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(
      async (artifacts) => (
        (saved = artifacts),
        { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
      ),
    ),
  );
  const artifacts = saved! as tf.io.ModelArtifacts;
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
  };
  const metadata = {
    tfjsVersion: '1.3.1',
    tmVersion: '2.4.7',
    packageVersion: '0.8.4-alpha2',
    packageName: '@teachablemachine/image',
    timeStamp: '2026-11-28T00:00:00.000Z',
    userMetadata: {},
    modelName: TM_NAME,
    labels,
    imageSize,
  };
  const encode = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
  return [
    { name: 'model.json', bytes: encode(modelJson) },
    { name: 'weights.bin', bytes: new Uint8Array(artifacts.weightData as ArrayBuffer) },
    { name: 'metadata.json', bytes: encode(metadata) },
  ];
}
