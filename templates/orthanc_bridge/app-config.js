/* OHIF configuration, rendered by Preview DICOM. No credentials: requests to /dicom-web are
   same-origin and carry the user's session; the portal checks each one for that user. */
window.config = {
  name: 'preview-dicom',
  routerBasename: '/viewer',
  extensions: [],
  modes: [],
  // The study list that leaves filtering to the server: OHIF 3.13's default list filters the
  // answer again in the browser, literally (a typed "*" or an unaccented "helene" would hide
  // studies the portal found, since its searches are wildcard-, case- and accent-aware).
  customizationService: [{ 'workList.variant': { $set: 'legacy' } }],
  showStudyList: true,
  maxNumberOfWebWorkers: 3,
  showWarningMessageForCrossOrigin: false,
  showCPUFallbackMessage: true,
  showLoadingIndicator: true,
  strictZSpacingForVolumeViewport: true,
  investigationalUseDialog: { option: 'never' },
  maxNumRequests: { interaction: 100, thumbnail: 5, prefetch: 25 },
  showErrorDetails: 'production',
  defaultDataSourceName: 'dicomweb',
  dataSources: [
    {
      namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
      sourceName: 'dicomweb',
      configuration: {
        friendlyName: 'Preview DICOM',
        name: 'preview-dicom',
        wadoUriRoot: '/wado',
        qidoRoot: '/dicom-web',
        wadoRoot: '/dicom-web',
        qidoSupportsIncludeField: false,
        imageRendering: 'wadors',
        thumbnailRendering: 'wadors',
        enableStudyLazyLoad: true,
        supportsFuzzyMatching: false,
        supportsWildcard: true,
        staticWado: false,
        singlepart: 'bulkdata,video',
        omitQuotationForMultipartRequest: true,
        bulkDataURI: { enabled: true, relativeResolution: 'studies' },
      },
    },
  ],
};
