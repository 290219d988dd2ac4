/* OHIF configuration, rendered by Preview DICOM. No credentials: requests to /dicom-web are
   same-origin and carry the user's session; the portal checks each one for that user. */
{% load i18n %}{% get_current_language as LANGUAGE_CODE %}
// OHIF in the portal's active language (OHIF reads i18next's choice from localStorage).
try { window.localStorage.setItem('i18nextLng', '{{ LANGUAGE_CODE|escapejs }}'); } catch (e) {}
window.config = {
  name: 'preview-dicom',
  routerBasename: '/viewer',
  extensions: [],
  modes: [],
  // The study list that leaves filtering to the server: OHIF 3.13's default list filters the
  // answer again in the browser, literally (a typed "*" or an unaccented "helene" would hide
  // studies the portal found, since its searches are wildcard-, case- and accent-aware).
  // No onboarding tour over the first image: staff open one study at a time, from the portal.
  customizationService: [{ 'workList.variant': { $set: 'legacy' } }, { 'ohif.tours': { $set: [] } }],
{% if visitor %}
  // A visitor holding a share link: no way back into the portal (they have no account), but a
  // banner naming the portal and when the link ends, and the zip when the link allows it.
  whiteLabeling: {
    createLogoComponentFn: function (React) {
      var shared = JSON.parse('{{ shared_json|escapejs }}');
      var uids = new URLSearchParams(window.location.search).get('StudyInstanceUIDs') || '';
      var link = shared[uids.split(',')[0]] || shared[Object.keys(shared)[0]] || {};
      var until = '{{ _("shared link, valid until {expires}")|escapejs }}'.replace('{expires}', link.expires || '');
      var zipLabel = '{{ _("Download (zip)")|escapejs }}';
      // On a phone OHIF's toolbar covers its header: the banner is a strip at the foot of the
      // page there, outside OHIF's layout.
      var phone = window.matchMedia && window.matchMedia('(max-width: 700px)').matches;
      if (phone && !document.getElementById('portal-share-floating')) {
        var strip = document.createElement('div');
        strip.id = 'portal-share-floating';
        strip.setAttribute('role', 'note');
        strip.setAttribute('data-cy', 'share-banner-phone');
        strip.style.cssText = 'position:fixed;left:0;right:0;bottom:0;z-index:10000;'
          + 'padding:.35rem .6rem;background:#0b2440;color:#fff;font:600 13px system-ui,sans-serif';
        strip.textContent = 'Preview DICOM · ' + until + ' ';
        if (link.zip) {
          var zip = document.createElement('a');
          zip.href = link.zip;
          zip.textContent = zipLabel;
          zip.style.cssText = 'color:#fff;text-decoration:underline';
          strip.appendChild(zip);
        }
        document.body.appendChild(strip);
      }
      if (phone) {
        return React.createElement('span', { 'data-cy': 'share-banner-header' });
      }
      var lines = [
        React.createElement('span', { key: 'portal', style: { fontSize: '14px' } }, 'Preview DICOM'),
        React.createElement('span', { key: 'until', style: { fontSize: '12px', fontWeight: 400 } }, until),
      ];
      if (link.zip) {
        lines.push(React.createElement(
          'a',
          { key: 'zip', href: link.zip, 'data-cy': 'share-download',
            style: { fontSize: '12px', textDecoration: 'underline', color: 'inherit' } },
          zipLabel
        ));
      }
      return React.createElement(
        'div',
        { role: 'note', 'data-cy': 'share-banner', className: 'text-primary-light',
          style: { display: 'flex', flexDirection: 'column', lineHeight: 1.2, fontWeight: 600,
                   whiteSpace: 'nowrap', padding: '0 0.4rem' } },
        lines
      );
    },
  },
  showStudyList: false,
{% else %}
  // The logo is the way back: to the patient of the study shown (the portal finds it and
  // checks the user may see it), or to the portal's exams from the study list.
  whiteLabeling: {
    createLogoComponentFn: function (React) {
      var uids = new URLSearchParams(window.location.search).get('StudyInstanceUIDs') || '';
      var first = uids.split(',')[0];
      var href = first ? '/studies/' + encodeURIComponent(first) + '/patient' : '{% url "orthanc_bridge:worklist" %}';
      var label = first ? '{{ _("Back to the patient")|escapejs }}' : '{{ _("Back to the exams")|escapejs }}';
      var short = first ? '{{ _("Patient")|escapejs }}' : '{{ _("Exams")|escapejs }}';
      // On a phone OHIF's toolbar covers its header: the way back floats in a corner of the
      // page there, outside OHIF's layout (kept up to date at each render of the header).
      var phone = window.matchMedia && window.matchMedia('(max-width: 700px)').matches;
      var floating = document.getElementById('portal-back-floating');
      if (phone && !floating) {
        floating = document.createElement('a');
        floating.id = 'portal-back-floating';
        floating.setAttribute('data-cy', 'portal-back-link');
        floating.style.cssText = 'position:fixed;left:8px;bottom:8px;z-index:10000;'
          + 'padding:.4rem .8rem;border-radius:999px;background:#0b63a8;color:#fff;'
          + 'font:600 14px system-ui,sans-serif;text-decoration:none';
        document.body.appendChild(floating);
      }
      if (floating) {
        floating.href = href;
        floating.title = label;
        floating.setAttribute('aria-label', label);
        floating.textContent = '\u2190 ' + short;
      }
      return React.createElement(
        'a',
        { href: href, title: label, 'aria-label': label, className: 'text-primary-light',
          'data-cy': phone ? 'portal-back-header' : 'portal-back-link',
          style: { display: 'inline-flex', alignItems: 'center', fontWeight: 600,
                   whiteSpace: 'nowrap', padding: '0 0.4rem' } },
        '\u2190 ' + short
      );
    },
  },
  showStudyList: true,
{% endif %}
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
